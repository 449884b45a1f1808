import { describe, expect, it } from 'vitest';
import { errorNoteText } from './errorText';

describe('errorNoteText', () => {
  it('says a new version was installed when a page chunk no longer loads', () => {
    for (const m of ['Failed to fetch dynamically imported module: http://x/assets/NodePanel-abc.js',
      'error loading dynamically imported module', 'Importing a module script failed.']) {
      expect(errorNoteText(new TypeError(m))).toMatch(/new version of Glyphic/);
    }
  });
  it('names what failed otherwise', () => {
    expect(errorNoteText(new Error('boom'), 'The node panel')).toMatch(/^The node panel failed to show: boom\./);
    expect(errorNoteText('x')).toMatch(/^This page failed to show: x\./);
  });
});
