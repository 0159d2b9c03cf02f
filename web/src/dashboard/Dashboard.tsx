import { useState } from "react";

import { useSession } from "../auth/session";
import { messageFor } from "../lib/problems";
import { Alert, Button, Shell } from "../ui/kit";
import { ActivityCard, DataCard } from "./Activity";
import { DevicesCard, SessionsCard } from "./Devices";
import { ProfileCard } from "./Profile";

export function Dashboard() {
  const session = useSession();
  const [error, setError] = useState<string | null>(null);
  return (
    <Shell>
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-bold">Your dashboard</h1>
        <Button variant="secondary" onClick={() => session.logout().catch((e) => setError(messageFor(e)))}>
          Sign out
        </Button>
      </div>
      {error && <Alert>{error}</Alert>}
      <ProfileCard />
      <DevicesCard />
      <SessionsCard />
      <ActivityCard />
      <DataCard />
    </Shell>
  );
}
