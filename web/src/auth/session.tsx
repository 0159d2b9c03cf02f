import { createContext, use, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { api, unwrap } from "../api/client";
import { deviceId } from "../lib/device";
import { ApiProblem } from "../lib/problems";

/** The member's session as this tab holds it: the access token lives in memory only. */
export interface Session {
  accessToken: string;
  expiresAt: number;
  /** How long before `expiresAt` to refresh: a minute, or a third of the lifetime when shorter. */
  early: number;
  sessionId: string;
}

interface Tokens {
  access_token: string;
  expires_in: number;
  session_id: string;
}

type Message = { type: "tokens"; session: Session } | { type: "logout"; sessionId: string | null };

export type SessionState = "checking" | "signed-out" | "signed-in";

interface SessionApi {
  state: SessionState;
  session: Session | null;
  /** Why this tab was signed out, when it did not choose to be. */
  notice: string | null;
  /** Adopts the tokens step 3 or a passkey sign-in answered. */
  begin(tokens: Tokens): void;
  /** A valid access token, refreshed first when it is about to expire. */
  token(): Promise<string>;
  /** Ends the session here and in every other tab; throws (and stays signed in) when the service refused. */
  logout(): Promise<void>;
  /** The session ended elsewhere (revoked, erased): forget it, saying why. */
  forget(notice?: string): void;
}

const SessionContext = createContext<SessionApi | null>(null);
const CHANNEL = "vottery-session";
const LOCK = "vottery-refresh";

function fromTokens(tokens: Tokens): Session {
  const lifetime = tokens.expires_in * 1000;
  return {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + lifetime,
    early: Math.min(60_000, lifetime / 3),
    sessionId: tokens.session_id,
  };
}

const fresh = (held: Session | null): held is Session => held !== null && held.expiresAt - Date.now() > held.early;

/** One refresh (or logout) at a time across this browser's tabs: the Web Locks API. */
async function exclusive<T>(work: () => Promise<T>): Promise<T> {
  if (navigator.locks) return navigator.locks.request(LOCK, work);
  return work();
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [state, setState] = useState<SessionState>("checking");
  const [notice, setNotice] = useState<string | null>(null);
  const current = useRef<Session | null>(null);
  /** Sessions logged out here or in another tab: their tokens are never adopted again. */
  const ended = useRef(new Set<string>());
  const channel = useMemo(() => (typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(CHANNEL)), []);

  const adopt = useCallback((next: Session | null) => {
    if (next && ended.current.has(next.sessionId)) return;
    current.current = next;
    if (next) setNotice(null);
    setSession(next);
    setState(next ? "signed-in" : "signed-out");
  }, []);

  const share = useCallback((message: Message) => channel?.postMessage(message), [channel]);

  const refresh = useCallback(
    async (): Promise<Session | null> =>
      exclusive(async () => {
        if (fresh(current.current)) return current.current;
        try {
          const tokens = await unwrap(api.POST("/api/auth/refresh-token", { body: { device_id: deviceId() } }));
          const next = fromTokens(tokens);
          adopt(next);
          share({ type: "tokens", session: next });
          return current.current;
        } catch (error) {
          if (error instanceof ApiProblem && error.status === 401) {
            adopt(null);
            return null;
          }
          throw error;
        }
      }),
    [adopt, share],
  );

  useEffect(() => {
    refresh().catch(() => adopt(null));
  }, [refresh, adopt]);

  useEffect(() => {
    if (!channel) return;
    const listen = (event: MessageEvent<Message>) => {
      if (event.data.type === "logout") {
        if (event.data.sessionId) ended.current.add(event.data.sessionId);
        adopt(null);
      }
      if (event.data.type === "tokens") adopt(event.data.session);
    };
    channel.addEventListener("message", listen);
    return () => channel.removeEventListener("message", listen);
  }, [channel, adopt]);

  useEffect(() => {
    if (!session) return;
    const wait = Math.max(5_000, session.expiresAt - Date.now() - session.early);
    const timer = window.setTimeout(() => {
      refresh().catch(() => undefined);
    }, wait);
    return () => window.clearTimeout(timer);
  }, [session, refresh]);

  const begin = useCallback(
    (tokens: Tokens) => {
      const next = fromTokens(tokens);
      adopt(next);
      share({ type: "tokens", session: next });
    },
    [adopt, share],
  );

  const token = useCallback(async () => {
    const next = fresh(current.current) ? current.current : await refresh();
    if (!next) throw new ApiProblem(401, null);
    return next.accessToken;
  }, [refresh]);

  const logout = useCallback(
    () =>
      exclusive(async () => {
        try {
          await unwrap(api.POST("/api/auth/logout", { body: { device_id: deviceId() } }));
        } catch (error) {
          // A session the service no longer knows is as good as ended; any other failure keeps it.
          if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
        }
        const sessionId = current.current?.sessionId ?? null;
        if (sessionId) ended.current.add(sessionId);
        adopt(null);
        share({ type: "logout", sessionId });
      }),
    [adopt, share],
  );

  const forget = useCallback(
    (why?: string) => {
      setNotice(why ?? null);
      const sessionId = current.current?.sessionId ?? null;
      adopt(null);
      share({ type: "logout", sessionId });
    },
    [adopt, share],
  );

  const value = useMemo<SessionApi>(
    () => ({ state, session, notice, begin, token, logout, forget }),
    [state, session, notice, begin, token, logout, forget],
  );

  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionApi {
  const value = use(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
