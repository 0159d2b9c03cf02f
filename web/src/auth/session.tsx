import { createContext, use, useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from "react";

import { api, unwrap } from "../api/client";
import { deviceId } from "../lib/device";
import { ApiProblem } from "../lib/problems";

/** The member's session as this tab holds it: the access token lives in memory only. */
export interface Session {
  accessToken: string;
  expiresAt: number;
  sessionId: string;
}

interface Tokens {
  access_token: string;
  expires_in: number;
  session_id: string;
}

type Message = { type: "tokens"; session: Session } | { type: "logout" };

export type SessionState = "checking" | "signed-out" | "signed-in";

interface SessionApi {
  state: SessionState;
  session: Session | null;
  /** Adopts the tokens step 3 or a passkey sign-in answered. */
  begin(tokens: Tokens): void;
  /** A valid access token, refreshed first when it is about to expire. */
  token(): Promise<string>;
  /** Ends the session here and in every other tab. */
  logout(): Promise<void>;
  /** The session ended elsewhere (revoked, erased): forget it, saying why. */
  forget(notice?: string): void;
  /** Why this tab was signed out, when it did not choose to be. */
  notice: string | null;
}

const SessionContext = createContext<SessionApi | null>(null);
const CHANNEL = "vottery-session";
const LOCK = "vottery-refresh";
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

function fromTokens(tokens: Tokens): Session {
  return {
    accessToken: tokens.access_token,
    expiresAt: Date.now() + tokens.expires_in * 1000,
    sessionId: tokens.session_id,
  };
}

/** One refresh at a time across this browser's tabs (the Web Locks API), then shared with the others. */
async function exclusive<T>(work: () => Promise<T>): Promise<T> {
  if (navigator.locks) return navigator.locks.request(LOCK, work);
  return work();
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [state, setState] = useState<SessionState>("checking");
  const [notice, setNotice] = useState<string | null>(null);
  const current = useRef<Session | null>(null);
  const channel = useMemo(() => (typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel(CHANNEL)), []);

  const adopt = useCallback((next: Session | null) => {
    current.current = next;
    if (next) setNotice(null);
    setSession(next);
    setState(next ? "signed-in" : "signed-out");
  }, []);

  const refresh = useCallback(async (): Promise<Session | null> => {
    return exclusive(async () => {
      const held = current.current;
      if (held && held.expiresAt - Date.now() > EARLY_MS) return held;
      try {
        const tokens = await unwrap(api.POST("/api/auth/refresh-token", { body: { device_id: deviceId() } }));
        const next = fromTokens(tokens);
        adopt(next);
        channel?.postMessage({ type: "tokens", session: next } satisfies Message);
        return next;
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 401) {
          adopt(null);
          return null;
        }
        throw error;
      }
    });
  }, [adopt, channel]);

  useEffect(() => {
    refresh().catch(() => adopt(null));
  }, [refresh, adopt]);

  useEffect(() => {
    if (!channel) return;
    const listen = (event: MessageEvent<Message>) => {
      if (event.data.type === "logout") adopt(null);
      if (event.data.type === "tokens") adopt(event.data.session);
    };
    channel.addEventListener("message", listen);
    return () => channel.removeEventListener("message", listen);
  }, [channel, adopt]);

  useEffect(() => {
    if (!session) return;
    const wait = Math.max(5_000, session.expiresAt - Date.now() - EARLY_MS);
    const timer = window.setTimeout(() => {
      refresh().catch(() => undefined);
    }, wait);
    return () => window.clearTimeout(timer);
  }, [session, refresh]);

  const value = useMemo<SessionApi>(
    () => ({
      state,
      session,
      notice,
      begin(tokens) {
        const next = fromTokens(tokens);
        adopt(next);
        channel?.postMessage({ type: "tokens", session: next } satisfies Message);
      },
      async token() {
        const held = current.current;
        if (held && held.expiresAt - Date.now() > EARLY_MS) return held.accessToken;
        const next = await refresh();
        if (!next) throw new ApiProblem(401, null);
        return next.accessToken;
      },
      async logout() {
        try {
          await unwrap(api.POST("/api/auth/logout", { body: { device_id: deviceId() } }));
        } finally {
          adopt(null);
          channel?.postMessage({ type: "logout" } satisfies Message);
        }
      },
      forget(why) {
        setNotice(why ?? null);
        adopt(null);
        channel?.postMessage({ type: "logout" } satisfies Message);
      },
    }),
    [state, session, notice, adopt, channel, refresh],
  );

  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): SessionApi {
  const value = use(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}
