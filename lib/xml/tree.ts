/**
 * A small, strict XML element tree over `saxes` (a conforming non-validating parser).
 *
 * Every XML document xenvirt reads goes through here, so the rules hold everywhere:
 * a DOCTYPE (and so any entity declaration) is refused, sizes and depths are bounded,
 * and every failure is a VirError with VIR_ERR_XML_ERROR naming line and column.
 */
import { SaxesParser } from 'saxes';
import { VirError, ErrorCode, ErrorDomain } from '../errors.js';

/**
 * The attributes of one element, read-only, in document order, kept as a flat
 * [name, value, name, value …] array collected from saxes' attribute events. Elements
 * have a handful of attributes, so a linear scan beats a Map (built per element) and
 * saxes' own record (a null-prototype object, slow to read), which profiling showed as
 * the largest cost of reading the domain model from the tree.
 */
export class XmlAttributes implements ReadonlyMap<string, string> {
  constructor(private readonly flat: string[]) {}
  get(name: string): string | undefined {
    const f = this.flat;
    for (let i = 0; i < f.length; i += 2) if (f[i] === name) return f[i + 1];
    return undefined;
  }
  has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  get size(): number {
    return this.flat.length / 2;
  }
  keys(): MapIterator<string> {
    return this.flat.filter((_, i) => i % 2 === 0)[Symbol.iterator]() as MapIterator<string>;
  }
  values(): MapIterator<string> {
    return this.flat.filter((_, i) => i % 2 === 1)[Symbol.iterator]() as MapIterator<string>;
  }
  entries(): MapIterator<[string, string]> {
    const out: [string, string][] = [];
    for (let i = 0; i < this.flat.length; i += 2) out.push([this.flat[i]!, this.flat[i + 1]!]);
    return out[Symbol.iterator]() as MapIterator<[string, string]>;
  }
  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }
  forEach(fn: (value: string, key: string, map: ReadonlyMap<string, string>) => void): void {
    for (let i = 0; i < this.flat.length; i += 2) fn(this.flat[i + 1]!, this.flat[i]!, this);
  }
}

const NO_ATTRIBUTES: string[] = [];
/** Shared by every element without attributes (read-only, so one instance serves all). */
const EMPTY_ATTRIBUTES = new XmlAttributes(NO_ATTRIBUTES);

export interface XmlElement {
  name: string;
  /** Attributes in document order. */
  attrs: ReadonlyMap<string, string>;
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

/** The two saxes (6.x) steps that collect a start tag's attributes; not in its public API. */
interface SaxesAttributeSteps {
  pushAttrib: (name: string, value: string) => void;
  processAttribs: () => void;
}

/** Most attributes one start tag may have before duplicates are found with a Set instead of a scan. */
const SCAN_LIMIT = 16;

/**
 * Have saxes hand each attribute straight to the builder. By itself saxes wraps every
 * attribute in a record and, at the end of the start tag, copies the records into a
 * per-tag dictionary object to find duplicates: the builder used neither, and profiling
 * showed that work as the largest part of what the tree cost beyond a plain parse
 * (issue 14). The duplicate check is kept, with saxes' own message at the same point of
 * the document. If a saxes release no longer has these steps, attribute events are used.
 */
function takeOverAttributes(p: SaxesParser, b: TreeBuilder): boolean {
  const steps = p as unknown as SaxesAttributeSteps;
  if (typeof steps.pushAttrib !== 'function' || typeof steps.processAttribs !== 'function') return false;
  steps.pushAttrib = (name, value) => b.addAttribute(name, value);
  steps.processAttribs = () => {
    const a = b.pending;
    if (a.length <= 2 * SCAN_LIMIT) {
      for (let i = 2; i < a.length; i += 2) {
        for (let j = 0; j < i; j += 2) {
          if (a[j] === a[i]) {
            p.fail(`duplicate attribute: ${a[i]}.`);
            break;
          }
        }
      }
    } else {
      const seen = new Set<string>();
      for (let i = 0; i < a.length; i += 2) {
        if (seen.has(a[i]!)) p.fail(`duplicate attribute: ${a[i]}.`);
        else seen.add(a[i]!);
      }
    }
  };
  return true;
}

/**
 * One parse in progress. The handlers are registered once on a parser that is reused
 * from parse to parse (saxes resets itself after a complete document), so a parse does not
 * build a parser and a set of closures of its own; after a failure the parser is dropped.
 */
class TreeBuilder {
  readonly parser = new SaxesParser({ xmlns: false, position: true });
  stack: XmlElement[] = [];
  /** Attributes of the start tag being read, collected until its opentag event. */
  pending: string[] = NO_ATTRIBUTES;
  root: XmlElement | undefined;
  count = 0;
  failure: VirError | undefined;
  lim: Required<XmlParseLimits> = DEFAULT_LIMITS;

  /** `takeOver` false keeps saxes' own attribute events (the fallback; tests compare both). */
  constructor(takeOver = true) {
    const p = this.parser;
    p.on('doctype', () => {
      this.failure ??= xmlError(`XML error at ${this.where()}: DOCTYPE declarations are not allowed`);
    });
    if (!takeOver || !takeOverAttributes(p, this)) {
      p.on('attribute', (a) => this.addAttribute(a.name, a.value));
    }
    // Names are kept as saxes hands them out. Interning them (one Map lookup per name, so
    // later comparisons are by pointer) was measured to cost more than it saved (issue 14).
    p.on('opentag', (tag) => this.open(tag.name));
    p.on('closetag', () => {
      this.stack.pop();
    });
    const onText = (t: string) => {
      const top = this.stack[this.stack.length - 1];
      if (top && !this.failure) top.text += t;
    };
    p.on('text', onText);
    p.on('cdata', onText);
    p.on('error', (err) => {
      this.failure ??= xmlError(`XML error ${err.message.replace(/^(?:[^:\n]*:)?(\d+):(\d+): /, 'at line $1, column $2: ')}`);
    });
  }

  addAttribute(name: string, value: string): void {
    if (this.pending === NO_ATTRIBUTES) this.pending = [];
    this.pending.push(name, value);
  }

  where(): string {
    return `line ${this.parser.line}, column ${this.parser.column}`;
  }

  open(name: string): void {
    const attributes = this.pending;
    this.pending = NO_ATTRIBUTES;
    if (this.failure) return;
    if (++this.count > this.lim.maxElements) {
      this.failure = xmlError(`XML document has more than ${this.lim.maxElements} elements`);
      return;
    }
    if (this.stack.length >= this.lim.maxDepth) {
      this.failure = xmlError(`XML error at ${this.where()}: elements nested deeper than ${this.lim.maxDepth}`);
      return;
    }
    const el: XmlElement = { name, attrs: attributes === NO_ATTRIBUTES ? EMPTY_ATTRIBUTES : new XmlAttributes(attributes), children: [], text: '', line: this.parser.line };
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(el);
    else this.root = el;
    this.stack.push(el);
  }

  parse(text: string, lim: Required<XmlParseLimits>): XmlElement {
    this.stack = [];
    this.pending = NO_ATTRIBUTES;
    this.root = undefined;
    this.count = 0;
    this.failure = undefined;
    this.lim = lim;
    try {
      // saxes keeps going after an error if we let it; stop at the first one.
      this.parser.write(text);
      if (!this.failure) this.parser.close();
    } catch (e) {
      this.failure ??= xmlError(`XML error: ${(e as Error).message}`);
    }
    const { failure, root } = this;
    this.stack = [];
    this.root = undefined;
    if (failure) throw failure;
    if (!root) throw xmlError('XML document has no root element');
    return root;
  }
}

let idle: TreeBuilder | undefined;

/**
 * @internal For tests: whether this saxes still has the attribute steps the builder takes
 * over (package.json pins saxes because they are not public API), and a parse through
 * saxes' public attribute events, the path used if they were gone.
 */
export const attributeStepsForTests = {
  takenOver: (): boolean => takeOverAttributes(new SaxesParser({ xmlns: false, position: true }), new TreeBuilder(false)),
  parseWithAttributeEvents: (text: string): XmlElement => new TreeBuilder(false).parse(text, DEFAULT_LIMITS),
};

/** Parse a whole document and return its root element. */
export function parseXml(text: string, limits: XmlParseLimits = {}): XmlElement {
  if (typeof text !== 'string') throw xmlError('XML document must be a string');
  const lim = limits === undefined || Object.keys(limits).length === 0 ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...limits };
  if (text.length > lim.maxLength) {
    throw xmlError(`XML document is too large (${text.length} characters; the limit is ${lim.maxLength})`);
  }
  // Take the idle builder (a handler that parses XML re-entrantly gets a fresh one).
  const b = idle ?? new TreeBuilder();
  idle = undefined;
  // A failed parse throws here and the builder is dropped: its parser is mid-document.
  const root = b.parse(text, lim);
  idle = b; // a clean end of document: saxes has reset itself
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
