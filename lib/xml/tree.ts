/**
 * A small, strict XML element tree over `saxes` (a conforming non-validating parser).
 *
 * Every XML document xenvirt reads goes through here, so the rules hold everywhere:
 * a DOCTYPE (and so any entity declaration) is refused, sizes and depths are bounded,
 * and every failure is a VirError with VIR_ERR_XML_ERROR naming line and column.
 */
import { SaxesParser } from 'saxes';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

export interface XmlElement {
  name: string;
  /** Attributes in document order (Map keeps insertion order). */
  attrs: Map<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
  /** 1-based line of the start tag, for messages. */
  line: number;
}

export interface XmlParseLimits {
  /** Largest document accepted, in UTF-16 code units. */
  maxLength?: number;
  /** Deepest element nesting accepted. */
  maxDepth?: number;
  /** Most elements accepted. */
  maxElements?: number;
}

const DEFAULT_LIMITS: Required<XmlParseLimits> = {
  maxLength: 16 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 200_000,
};

function xmlError(message: string): VirError {
  return new VirError(message, { code: ErrorCode.XML_ERROR, domain: ErrorDomain.XML });
}

/** Parse a whole document and return its root element. */
export function parseXml(text: string, limits: XmlParseLimits = {}): XmlElement {
  if (typeof text !== 'string') throw xmlError('XML document must be a string');
  const lim = { ...DEFAULT_LIMITS, ...limits };
  if (text.length > lim.maxLength) {
    throw xmlError(`XML document is too large (${text.length} characters; the limit is ${lim.maxLength})`);
  }
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let count = 0;
  let failure: VirError | undefined;
  const where = () => `line ${parser.line}, column ${parser.column}`;

  parser.on('doctype', () => {
    failure ??= xmlError(`XML error at ${where()}: DOCTYPE declarations are not allowed`);
  });
  parser.on('opentag', (tag) => {
    if (failure) return;
    if (++count > lim.maxElements) {
      failure = xmlError(`XML document has more than ${lim.maxElements} elements`);
      return;
    }
    if (stack.length >= lim.maxDepth) {
      failure = xmlError(`XML error at ${where()}: elements nested deeper than ${lim.maxDepth}`);
      return;
    }
    const el: XmlElement = { name: tag.name, attrs: new Map(), children: [], text: '', line: parser.line };
    // Object.keys, not Object.entries: the same own attributes in the same order, without
    // allocating a pair per attribute (this loop is the hot path of every XML parse).
    const attributes = tag.attributes as Record<string, string>;
    for (const k of Object.keys(attributes)) el.attrs.set(k, attributes[k]!);
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top && !failure) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('error', (err) => {
    failure ??= xmlError(`XML error ${err.message.replace(/^(?:[^:\n]*:)?(\d+):(\d+): /, 'at line $1, column $2: ')}`);
  });

  try {
    // saxes keeps going after an error if we let it; stop at the first one.
    parser.write(text);
    if (!failure) parser.close();
  } catch (e) {
    failure ??= xmlError(`XML error: ${(e as Error).message}`);
  }
  if (failure) throw failure;
  if (!root) throw xmlError('XML document has no root element');
  return root;
}

/** First child element with this name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (c.name === name) return c;
  return undefined;
}

/** Every child element with this name, in order. */
export function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

/** Text of the first child with this name, trimmed; undefined if absent. */
export function childText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : c.text.trim();
}

/** Escape text for an element body. */
export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape text for a single-quoted attribute value (libvirt quotes attributes with '). */
export function escapeAttr(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;');
}
