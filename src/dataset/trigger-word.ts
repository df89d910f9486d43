import type { FinetuneMode, ImageCaption } from '../model/backend.ts';

const LEADING_ARTICLE = /^(a|an|the|one)\s+/i;

/**
 * Turns an automatic caption (no trigger word) into the training caption for the mode (DESIGN.md §4).
 * - character/product: the subject *is* the trigger word. Captions name their subject first
 *   ("a red cat on grass"), so the leading article becomes the trigger word: "TOK red cat on grass",
 *   the form BFL's guide recommends for prompting ("mycstm man, …"). A subject the captioner could not
 *   name is the trigger word alone in its place: "a TOK on a red background".
 * - style: the content is described and the look is attributed: "…, in the style of TOK".
 * - general: the whole image is described, with the trigger word prepended.
 * With nothing to say (captioning off, a busy photo the captioner cannot read), the trigger word stands alone.
 */
export function placeTriggerWord(mode: FinetuneMode, trigger: string, caption: ImageCaption | string | null): string {
  const c = typeof caption === 'string' || caption === null ? { text: caption, layout: null, background: null } : caption;
  const text = tidy(c.text);
  const layout = tidy(c.layout);
  switch (mode) {
    case 'character':
    case 'product':
      if (text) return LEADING_ARTICLE.test(text) ? text.replace(LEADING_ARTICLE, `${trigger} `) : `${trigger}, ${text}`;
      return layout ? `a ${trigger} ${layout}` : trigger;
    case 'style':
      if (text) return `${text}, in the style of ${trigger}`;
      return c.background ? `an image on a ${c.background} background, in the style of ${trigger}` : `an image in the style of ${trigger}`;
    case 'general':
      if (text) return `${trigger}, ${text}`;
      return layout ? `${trigger} ${layout}` : trigger;
  }
}

function tidy(s: string | null): string {
  return s?.trim().replace(/[.\s]+$/, '') ?? '';
}
