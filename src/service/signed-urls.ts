import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedKind = 'sample' | 'preview';

/**
 * Sample and preview URLs need no x-key (browsers and <img> tags fetch them) but expire: the
 * signature is an HMAC of kind, task id and expiry under a per-deployment secret.
 */
export class UrlSigner {
  constructor(
    private readonly secret: Buffer,
    private readonly ttlSeconds: number,
  ) {}

  /** `step` (a finetune's preview at that step) is signed with the rest: a URL for one step opens no other. */
  private mac(kind: SignedKind, id: string, exp: number, step?: number): string {
    const subject = step === undefined ? `${kind}:${id}:${exp}` : `${kind}:${id}@${step}:${exp}`;
    return createHmac('sha256', this.secret).update(subject).digest('base64url');
  }

  sign(baseUrl: string, kind: SignedKind, id: string, nowMs = Date.now(), step?: number): string {
    const exp = Math.floor(nowMs / 1000) + this.ttlSeconds;
    const at = step === undefined ? '' : `step=${step}&`;
    return `${baseUrl}/v1/files/${kind}/${id}?${at}exp=${exp}&sig=${this.mac(kind, id, exp, step)}`;
  }

  verify(kind: SignedKind, id: string, exp: string | undefined, sig: string | undefined, nowMs = Date.now(), step?: number): 'ok' | 'expired' | 'invalid' {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'invalid';
    const expected = Buffer.from(this.mac(kind, id, Number(exp), step));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return Number(exp) * 1000 < nowMs ? 'expired' : 'ok';
  }
}
