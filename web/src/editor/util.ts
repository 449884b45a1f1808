// Small helpers of the editor.
import { writeClipboard } from '../ui/clipboard';
import { toast } from '../ui/toast';

export function webhookUrl(path: string): string {
  return location.origin + '/hooks/' + path;
}

/** Copies text and says so in a toast. */
export async function copyText(text: string, what = 'Copied'): Promise<boolean> {
  const ok = await writeClipboard(text);
  toast(ok ? 'ok' : 'error', ok ? what : 'Copying failed: the browser refused the clipboard.');
  return ok;
}

/** A trailing-edge debounce with cancel and flush. */
export function debounce<A extends unknown[]>(fn: (...a: A) => void, ms: number) {
  let t: ReturnType<typeof setTimeout> | null = null;
  let last: A | null = null;
  const d = (...a: A) => { last = a; if (t) clearTimeout(t); t = setTimeout(() => { t = null; fn(...a); }, ms); };
  d.cancel = () => { if (t) clearTimeout(t); t = null; };
  d.flush = () => { if (t && last) { clearTimeout(t); t = null; fn(...last); } };
  return d;
}
