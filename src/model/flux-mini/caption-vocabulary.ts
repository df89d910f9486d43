// The words flux-mini was pretrained on that runtime code also speaks: the named background
// colours and the caption of one centred object. The built-in captioner writes captions in this
// form, so it must agree with the pretraining scenes word for word; both read it from here.

export const COLORS: Record<string, [number, number, number]> = {
  red: [220, 40, 40],
  orange: [245, 140, 30],
  yellow: [245, 220, 50],
  green: [50, 170, 70],
  blue: [40, 90, 220],
  purple: [140, 60, 190],
  pink: [245, 150, 190],
  brown: [130, 80, 40],
  black: [20, 20, 20],
  white: [245, 245, 245],
  gray: [128, 128, 128],
  teal: [30, 160, 160],
};

export function article(name: string): string {
  return /^[aeiou]/.test(name) ? 'an' : 'a';
}

/** The caption of a single centred object, the form the captioner and the recognition benchmark use too. */
export function centredCaption(name: string, background: string): string {
  return `${article(name)} ${name} on a ${background} background`;
}

/** A single object's caption as pretraining writes it: centred, or at a named place ("a cat on the left, red background"). */
export function objectCaption(name: string, background: string, position: string | null): string {
  return position ? `${article(name)} ${name} ${position}, ${background} background` : centredCaption(name, background);
}

/** The same place and background without the object: what the captioner says of a subject it does not know. */
export function layoutPhrase(background: string, position: string | null): string {
  return position ? `${position}, ${background} background` : `on a ${background} background`;
}
