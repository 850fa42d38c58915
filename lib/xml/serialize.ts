/** Turn a parsed XmlElement back into XML text (used to hand sub-documents to parsers). */
import { escapeAttr, escapeText, type XmlElement } from './tree.js';

export function serializeElement(el: XmlElement): string {
  const attrs = [...el.attrs].map(([k, v]) => ` ${k}='${escapeAttr(v)}'`).join('');
  if (el.children.length === 0 && el.text === '') return `<${el.name}${attrs}/>`;
  // Child elements first, then text: the documents we re-parse this way carry text only
  // in leaf elements, so nothing is reordered in practice.
  const inner = el.children.length === 0 ? escapeText(el.text) : el.children.map(serializeElement).join('');
  return `<${el.name}${attrs}>${inner}</${el.name}>`;
}
