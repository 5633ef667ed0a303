// HTML escaping for text put into a page (error pages, redirect notes): the escape-html package,
// which writes &amp; &lt; &gt; &quot; and &#39;.
import escapeHtmlText from 'escape-html';

/** `s` with the five characters HTML gives meaning to (& < > " ') written as entities. */
export const escapeHtml: (s: string) => string = escapeHtmlText;
