// Small helpers of the editor.
import { toast } from '../ui/toast';

export function webhookUrl(path: string): string {
  return location.origin + '/hooks/' + path;
}

/** Copies text: the async clipboard when allowed, else a hidden textarea. */
export async function copyText(text: string, what = 'Copied'): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      toast('ok', what);
      return true;
    }
  } catch { /* fall back */ }
  const ok = legacyCopy(text);
  toast(ok ? 'ok' : 'error', ok ? what : 'Copying failed: the browser refused the clipboard.');
  return ok;
}

function legacyCopy(text: string): boolean {
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
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
