import type { FinetuneMode, RgbImage } from '../model/backend.ts';
import { type Captioner, freeTextCaption } from './captioner.ts';
import { encodeRgbPng } from './rgb-image.ts';

export interface OpenAiCaptionerOptions {
  /** Base URL of an OpenAI-compatible API (e.g. http://localhost:11434/v1 for Ollama) or its full /chat/completions URL. */
  url: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const INSTRUCTIONS: Record<FinetuneMode, string> = {
  character:
    'Describe this image in one short sentence for an image-generation training caption. Start with the main person or character (e.g. "a man with curly hair"), then the setting.',
  product:
    'Describe this image in one short sentence for an image-generation training caption. Start with the main product or object (e.g. "a pair of sunglasses"), then the setting.',
  style:
    'Describe the content of this image in one short sentence for an image-generation training caption. Describe what is depicted, not the artistic style.',
  general: 'Describe this whole image in one or two sentences for an image-generation training caption.',
};

export function chatCompletionsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/chat/completions') ? trimmed : `${trimmed}/chat/completions`;
}

/** A vision model behind an OpenAI-compatible chat-completions endpoint (Ollama, vLLM, LM Studio, …). */
export function openAiCaptioner(opts: OpenAiCaptionerOptions): Captioner {
  const doFetch = opts.fetch ?? fetch;
  const endpoint = chatCompletionsUrl(opts.url);
  return {
    name: `${opts.model} via ${endpoint}`,
    async caption(images, mode) {
      const out = [];
      for (const image of images) out.push(freeTextCaption(await captionOne(image, mode)));
      return out;
    },
  };

  async function captionOne(image: RgbImage, mode: FinetuneMode): Promise<string | null> {
    const png = await encodeRgbPng(image);
    const res = await doFetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
      body: JSON.stringify({
        model: opts.model,
        max_tokens: 120,
        temperature: 0,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: INSTRUCTIONS[mode] },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
            ],
          },
        ],
      }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 120_000),
    });
    if (!res.ok) throw new Error(`caption API ${endpoint} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const body = (await res.json()) as { choices?: { message?: { content?: unknown } }[] };
    const content = body.choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new Error(`caption API ${endpoint} returned no message content`);
    const text = content
      .trim()
      .replace(/^["']|["']$/g, '')
      .trim();
    return text || null;
  }
}
