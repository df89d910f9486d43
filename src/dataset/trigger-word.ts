import type { FinetuneMode } from '../model/backend.ts';

const LEADING_ARTICLE = /^(a|an|the|one)\s+/i;

/**
 * Turns an automatic caption (no trigger word) into the training caption for the mode (DESIGN.md §4).
 * - character/product: the subject *is* the trigger word. Captions name their subject first
 *   ("a red cat on grass"), so the leading article becomes the trigger word: "TOK red cat on grass",
 *   the form BFL's guide recommends for prompting ("mycstm man, …").
 * - style: the content is described and the look is attributed: "…, in the style of TOK".
 * - general: the whole image is described, with the trigger word prepended.
 * With no caption (captioning off, or the captioner could not), the trigger word stands alone.
 */
export function placeTriggerWord(mode: FinetuneMode, trigger: string, caption: string | null): string {
  const text = caption?.trim().replace(/[.\s]+$/, '') ?? '';
  switch (mode) {
    case 'character':
    case 'product':
      if (!text) return trigger;
      return LEADING_ARTICLE.test(text) ? text.replace(LEADING_ARTICLE, `${trigger} `) : `${trigger}, ${text}`;
    case 'style':
      return text ? `${text}, in the style of ${trigger}` : `an image in the style of ${trigger}`;
    case 'general':
      return text ? `${trigger}, ${text}` : trigger;
  }
}
