import { describe, expect, it } from 'vitest';
import { safeNext } from './next';

const O = 'https://glyphic.example';
const next = (v: string | null) => safeNext(new URLSearchParams(v === null ? '' : 'next=' + encodeURIComponent(v)), O);

describe('safeNext', () => {
  it('keeps pages of the app, with their query and hash', () => {
    expect(next('/workflows/abc?execution=x')).toBe('/workflows/abc?execution=x');
    expect(next('/invite#token=t0k')).toBe('/invite#token=t0k');
  });
  it('sends anything else to the workflows', () => {
    for (const v of [null, '', 'https://evil.example/', '//evil.example/x', '/\\evil.example', '/\\/evil.example',
      '\\\\evil.example', 'javascript:alert(1)', ' /workflows', '/login', '/login?next=/x', '/signup']) {
      expect(next(v)).toBe('/workflows');
    }
  });
});
