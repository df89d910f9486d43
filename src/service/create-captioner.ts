import { backendCaptioner, type Captioner } from '../dataset/captioner.ts';
import { openAiCaptioner } from '../dataset/openai-captioner.ts';
import type { ModelBackend } from '../model/backend.ts';
import type { ServiceConfig } from './config.ts';

/** CAPTION_API_URL selects an external vision model; otherwise the model's own captioner. */
export function createCaptioner(config: ServiceConfig, backend: ModelBackend): Captioner {
  if (config.captionApiUrl) return openAiCaptioner({ url: config.captionApiUrl, model: config.captionApiModel, apiKey: config.captionApiKey });
  return backendCaptioner(backend);
}
