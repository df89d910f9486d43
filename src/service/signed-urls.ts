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

  private mac(kind: SignedKind, id: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`${kind}:${id}:${exp}`).digest('base64url');
  }

  sign(baseUrl: string, kind: SignedKind, id: string, nowMs = Date.now()): string {
    const exp = Math.floor(nowMs / 1000) + this.ttlSeconds;
    return `${baseUrl}/v1/files/${kind}/${id}?exp=${exp}&sig=${this.mac(kind, id, exp)}`;
  }

  verify(kind: SignedKind, id: string, exp: string | undefined, sig: string | undefined, nowMs = Date.now()): 'ok' | 'expired' | 'invalid' {
    if (!exp || !sig || !/^\d{1,12}$/.test(exp)) return 'invalid';
    const expected = Buffer.from(this.mac(kind, id, Number(exp)));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'invalid';
    return Number(exp) * 1000 < nowMs ? 'expired' : 'ok';
  }
}
