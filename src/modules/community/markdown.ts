import { Marked } from 'marked';
import sanitizeHtml from 'sanitize-html';

// One parser for the whole process, with GitHub-flavoured Markdown; no extensions, so no hooks that could run code.
const parser = new Marked({ gfm: true, breaks: false, async: false });

/**
 * What rendered Markdown may keep: text formatting, headings, lists, tables,
 * code, links and images over http(s). Everything else is dropped: scripts,
 * styles, iframes, forms, event handlers (every attribute not listed), and any
 * URL scheme but http, https and mailto (so no `javascript:` or `data:`).
 */
const RULES: sanitizeHtml.IOptions = {
  allowedTags: [
    'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'blockquote', 'pre', 'code', 'kbd', 'samp',
    'strong', 'b', 'em', 'i', 'del', 's', 'sub', 'sup', 'mark', 'small',
    'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'input',
    'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'caption',
    'a', 'img', 'details', 'summary', 'span', 'div',
  ],
  allowedAttributes: {
    a: ['href', 'title', 'rel', 'target'],
    img: ['src', 'alt', 'title', 'width', 'height'],
    code: ['class'],
    th: ['align'],
    td: ['align'],
    ol: ['start'],
    // Task lists: GFM renders `- [x]` as a disabled checkbox.
    input: ['type', 'checked', 'disabled'],
  },
  allowedClasses: { code: ['language-*'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesByTag: { img: ['http', 'https'] },
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  transformTags: {
    // A link in a post is the author's, not the platform's: no ranking credit, no window.opener.
    a: sanitizeHtml.simpleTransform('a', { rel: 'nofollow noopener noreferrer ugc', target: '_blank' }),
    input: (tagName, attribs) => ({ tagName, attribs: attribs.type === 'checkbox' ? { type: 'checkbox', disabled: '', ...(attribs.checked !== undefined ? { checked: '' } : {}) } : {} }),
  },
};

/** Markdown as sanitized HTML, rendered once when a post is written (stored beside the Markdown). */
export function renderMarkdown(markdown: string): string {
  return sanitizeHtml(parser.parse(markdown) as string, RULES);
}
