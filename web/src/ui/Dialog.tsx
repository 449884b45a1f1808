// A modal dialog on the native <dialog> element: focus is trapped and
// restored by the browser, Escape closes it.
import { useEffect, useRef, type ReactNode } from 'react';

export function Dialog({ title, open, onClose, children, footer, wide }: {
  title: string; open: boolean; onClose: () => void; children: ReactNode; footer?: ReactNode; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} className={'dialog' + (wide ? ' wide' : '')} aria-label={title}
      onCancel={(e) => { e.preventDefault(); onClose(); }}>
      {open && (
        <>
          <header><h2>{title}</h2><button className="icon" aria-label="Close" onClick={onClose}>×</button></header>
          <div className="dialog-body">{children}</div>
          {footer && <footer>{footer}</footer>}
        </>
      )}
    </dialog>
  );
}
