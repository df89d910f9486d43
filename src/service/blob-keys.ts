// Where each kind of bytes lives in the blob store. Everything of a finetune sits under one prefix,
// so deleting the finetune is one deletePrefix.

export const finetunePrefix = (id: string) => `finetunes/${id}`;
export const datasetImageKey = (id: string, index: number) => `finetunes/${id}/images/${String(index).padStart(2, '0')}.png`;
export const loraKey = (id: string) => `finetunes/${id}/lora.safetensors`;
export const checkpointKey = (id: string) => `finetunes/${id}/checkpoint.bin`;
/** The preview rendered at one step (finetune_details.training.previews lists them). */
export const previewAtStepKey = (id: string, step: number) => `finetunes/${id}/previews/${String(step).padStart(4, '0')}.png`;

export const taskPrefix = (id: string) => `tasks/${id}`;
export const sampleKey = (id: string, format: 'jpeg' | 'png') => `tasks/${id}/sample.${format === 'png' ? 'png' : 'jpg'}`;
export const imagePromptKey = (id: string) => `tasks/${id}/image_prompt.png`;
/** A canny / depth request's control image, or the image a fill request repaints (RGB, at the output size). */
export const controlImageKey = (id: string) => `tasks/${id}/control.png`;
/** A fill request's mask (greyscale, at the output size, white = repaint), from its mask or its image's alpha. */
export const maskKey = (id: string) => `tasks/${id}/mask.png`;
