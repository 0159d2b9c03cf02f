import type { ReactNode } from "react";

import { config } from "./config";
import { Card, Shell } from "./ui/kit";

const CAME_FROM_SNGINE = "vottery.from_sngine";

/**
 * Whether this visitor came from Sngine: the referrer's origin is one of the
 * build's Sngine origins, remembered for the tab's session so a reload inside
 * the flow does not bounce them. A courtesy gate only: the contact match
 * against Sngine's accounts is the security.
 */
export function cameFromSngine(): boolean {
  if (sessionStorage.getItem(CAME_FROM_SNGINE) === "1") return true;
  let origin: string;
  try {
    origin = document.referrer ? new URL(document.referrer).origin : "";
  } catch {
    origin = "";
  }
  const from = config.sngineOrigins.includes(origin);
  if (from) sessionStorage.setItem(CAME_FROM_SNGINE, "1");
  return from;
}

export function SngineGate({ children, open }: { children: ReactNode; open: boolean }) {
  if (open) return children;
  return (
    <Shell>
      <Card title="Please come from Sngine">
        <p className="mb-4">
          Vottery verifies members of Sngine. Register on Sngine first, then open Vottery from your Sngine account.
        </p>
        {config.sngineRegisterUrl && (
          <a
            className="inline-flex min-h-11 items-center rounded-lg bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-700"
            href={config.sngineRegisterUrl}
          >
            Register on Sngine
          </a>
        )}
      </Card>
    </Shell>
  );
}
