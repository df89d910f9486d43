// The SDK's request types come from the route declarations: these calls are checked by `npm run typecheck`
// (part of `npm test`); each @ts-expect-error fails the typecheck if the line it marks ever compiles.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { INFERENCE_ENDPOINTS } from '../../src/api/inference-schemas.ts';
import type { FluxtuneClient } from '../../src/client/client.ts';
import type { InferenceEndpoint } from '../../src/client/types.ts';

function typeChecks(client: FluxtuneClient): void {
  void client.finetuneInference('id', { endpoint: 'flux-pro-finetuned', prompt: 'x', width: 512, steps: 20, finetune_strength: 1 });
  void client.finetuneInference('id', { prompt: 'x', aspect_ratio: '1:1', image_prompt_strength: 0.2 });
  void client.generate('flux-pro-1.1-ultra', { prompt: 'x', raw: true });
  void client.generate('flux-pro', { interval: 2 });
  void client.generate('flux-pro');
  void client.generate('flux-pro-1.0-canny', { prompt: 'x', preprocessed_image: 'b64', canny_low_threshold: 10, canny_high_threshold: 90 });
  void client.generate('flux-pro-1.0-depth', { prompt: 'x', control_image: 'b64', guidance: 15 });
  void client.generate('flux-pro-1.0-fill', { image: 'b64', mask: 'b64' });
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.0-canny-finetuned', prompt: 'x', control_image: 'b64', canny_high_threshold: 300 });
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.0-fill-finetuned', image: 'b64', steps: 15 });
  // @ts-expect-error a misspelt field
  void client.finetuneInference('id', { prompt: 'x', finetune_strenght: 1 });
  // @ts-expect-error canny's fields on ultra
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.1-ultra-finetuned', canny_low_threshold: 50 });
  // @ts-expect-error ultra-finetuned has no raw (BFL's FinetuneFluxUltraInput)
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.1-ultra-finetuned', raw: true });
  // @ts-expect-error pro's width on ultra
  void client.generate('flux-pro-1.1-ultra', { width: 512 });
  // @ts-expect-error a finetuned endpoint is not a base one
  void client.generate('flux-pro-finetuned', { prompt: 'x' });
  // @ts-expect-error no such endpoint
  void client.generate('flux-pro-2', {});
  // @ts-expect-error canny's thresholds on the depth route (BFL's FinetuneDepthInputs has none)
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.0-depth-finetuned', prompt: 'x', control_image: 'b64', canny_low_threshold: 50 });
  // @ts-expect-error the same on the base depth route
  void client.generate('flux-pro-1.0-depth', { prompt: 'x', control_image: 'b64', canny_high_threshold: 200 });
  // @ts-expect-error the -finetuned canny route requires its control_image
  void client.finetuneInference('id', { endpoint: 'flux-pro-1.0-canny-finetuned', prompt: 'x' });
  // @ts-expect-error fill requires its image
  void client.generate('flux-pro-1.0-fill', { mask: 'b64' });
  // @ts-expect-error canny requires a prompt, so its params cannot be left out
  void client.generate('flux-pro-1.0-canny');
  // @ts-expect-error fill takes no size: the output has the image's size
  void client.generate('flux-pro-1.0-fill', { image: 'b64', width: 512 });
  // @ts-expect-error the wrong type
  void client.requestFinetuning('dir', { finetune_comment: 'c', iterations: '300' });
}

describe('SDK types', () => {
  it('InferenceEndpoint is derived from the route table', () => {
    const endpoints: InferenceEndpoint[] = Object.keys(INFERENCE_ENDPOINTS) as (keyof typeof INFERENCE_ENDPOINTS)[];
    assert.deepEqual(endpoints.sort(), [
      'flux-pro',
      'flux-pro-1.0-canny',
      'flux-pro-1.0-canny-finetuned',
      'flux-pro-1.0-depth',
      'flux-pro-1.0-depth-finetuned',
      'flux-pro-1.0-fill',
      'flux-pro-1.0-fill-finetuned',
      'flux-pro-1.1-ultra',
      'flux-pro-1.1-ultra-finetuned',
      'flux-pro-finetuned',
    ]);
    assert.equal(typeof typeChecks, 'function');
  });
});
