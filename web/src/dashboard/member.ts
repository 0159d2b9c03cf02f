import { useCallback, useEffect, useState } from "react";

import { bearer } from "../api/client";
import { useSession } from "../auth/session";
import { ApiProblem, asProblem, messageFor } from "../lib/problems";

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/**
 * Runs a member's call with a fresh access token: the body and the response
 * (for its headers), or an `ApiProblem`. A refused session signs this tab out
 * with the reason.
 */
export function useMemberCall() {
  const { token, forget } = useSession();
  return useCallback(
    async <T,>(call: (auth: ReturnType<typeof bearer>) => Promise<Answer<T>>): Promise<{ data: T; response: Response }> => {
      let answer: Answer<T>;
      try {
        answer = await call(bearer(await token()));
      } catch (error) {
        throw error instanceof ApiProblem ? error : new ApiProblem(0, null);
      }
      if (answer.response.ok) return { data: answer.data as T, response: answer.response };
      const problem = asProblem(answer.response.status, answer.error);
      if (problem.status === 401 && problem.code !== "insufficient_user_authentication") {
        forget(messageFor(problem));
      }
      throw problem;
    },
    [token, forget],
  );
}

export type MemberCall = ReturnType<typeof useMemberCall>;

/**
 * A list the member reads (`read` must be stable: defined outside the
 * component), read again after each action on it; failures as sentences.
 */
export function useMemberList<T>(read: (member: MemberCall) => Promise<T[]>) {
  const member = useMemberCall();
  const [items, setItems] = useState<T[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    read(member).then(setItems, (e) => setError(messageFor(e)));
  }, [member, read, version]);

  const act = useCallback(async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      setVersion((v) => v + 1);
    } catch (caught) {
      setError(messageFor(caught));
    }
  }, []);

  return { items, error, act, member };
}
