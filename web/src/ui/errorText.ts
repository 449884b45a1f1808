/** The text of the note an error boundary shows. */
export function errorNoteText(e: unknown, what = 'This page'): string {
  const msg = e instanceof Error ? e.message : String(e);
  // Chromium, Firefox, Safari: a lazily loaded module that is gone
  if (/dynamically imported module|error loading dynamically imported|importing a module script failed/i.test(msg)) {
    return 'A new version of Glyphic was installed since this page was opened: reload the page to continue. Unsaved changes of a workflow are offered back after the reload.';
  }
  return `${what} failed to show: ${msg}. Reloading the page usually helps; unsaved changes of a workflow are offered back after it.`;
}
