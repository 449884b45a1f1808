import type { AnchorHTMLAttributes } from 'react';
import { linkClick } from '../app/router';

/** An <a> that navigates inside the app. */
export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={(e) => { props.onClick?.(e); linkClick(e); }} />;
}
