import { createHmac } from 'node:crypto';

/** X-Webhook-Signature: "sha256=" + hex HMAC-SHA256 of the exact body bytes under the task's webhook_secret. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

export function webhookHeaders(secret: string | null, body: string): Record<string, string> {
  if (!secret) return {};
  return { 'X-Webhook-Secret': secret, 'X-Webhook-Signature': webhookSignature(secret, body) };
}
