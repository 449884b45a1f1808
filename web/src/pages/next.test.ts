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
  it('reads next from the hash too (an invitation token must not reach the server in a query)', () => {
    expect(safeNext(new URLSearchParams(''), O, '#next=' + encodeURIComponent('/invite#token=t0k'))).toBe('/invite#token=t0k');
    expect(safeNext(new URLSearchParams(''), O, '#next=' + encodeURIComponent('//evil.example'))).toBe('/workflows');
  });
});
