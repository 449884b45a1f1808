// Who is signed in, in which org, with which role: loaded from GET /api/me
// once, refreshed after log-in, org switch and sign-out.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, call, setCsrf, setUnauthorizedHandler, type Schemas } from '../api/client';
import { navigate } from './router';
import { setUserTimeZone } from '../ui/misc';

export type Me = Schemas['Me'];
export type Role = 'owner' | 'admin' | 'editor' | 'viewer';
export interface Prefs { theme?: 'light' | 'dark' | 'system'; time_zone?: string; [k: string]: unknown }

interface SessionValue {
  me: Me | null;
  loading: boolean;
  prefs: Prefs;
  role: Role | null;
  canEdit: boolean;
  isAdmin: boolean;
  refresh: () => Promise<Me | null>;
  setPrefs: (p: Prefs) => void;
  signedOut: () => void;
}

const Ctx = createContext<SessionValue | null>(null);

// The session is asked for as soon as the app's code runs, before React's
// first render (the answer decides the first page).
let firstMe: Promise<Me> | null = call(api.GET('/api/me'));
firstMe.catch(() => {});

export function useSession(): SessionValue {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

export function applyTheme(theme: Prefs['theme']) {
  const t = theme === 'light' || theme === 'dark' ? theme : '';
  if (t) document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);
  const [prefs, setPrefsState] = useState<Prefs>(() => {
    try { return JSON.parse(localStorage.getItem('glyphic.prefs') || '{}'); } catch { return {}; }
  });

  const setPrefs = useCallback((p: Prefs) => {
    setPrefsState(p);
    applyTheme(p.theme);
    setUserTimeZone(typeof p.time_zone === 'string' ? p.time_zone : undefined);
    localStorage.setItem('glyphic.prefs', JSON.stringify(p));
  }, []);

  const refresh = useCallback(async () => {
    try {
      const pending = firstMe;
      firstMe = null;
      const m = await (pending ?? call(api.GET('/api/me')));
      setCsrf(m.csrf_token);
      setMe(m);
      call(api.GET('/api/me/prefs')).then((p) => setPrefs(p as Prefs)).catch(() => {});
      return m;
    } catch {
      setCsrf(null);
      setMe(null);
      return null;
    } finally {
      setLoading(false);
    }
  }, [setPrefs]);

  const signedOut = useCallback(() => { setCsrf(null); setMe(null); }, []);

  useEffect(() => {
    applyTheme(prefs.theme);
    setUserTimeZone(typeof prefs.time_zone === 'string' ? prefs.time_zone : undefined);
    refresh();
    setUnauthorizedHandler(() => {
      setCsrf(null);
      setMe(null);
      const here = location.pathname + location.search;
      if (!here.startsWith('/login')) navigate('/login?next=' + encodeURIComponent(here), { replace: true, force: true });
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const role = (me?.org?.role ?? null) as Role | null;
  const value: SessionValue = {
    me, loading, prefs, role,
    canEdit: role === 'owner' || role === 'admin' || role === 'editor',
    isAdmin: role === 'owner' || role === 'admin',
    refresh, setPrefs, signedOut,
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
