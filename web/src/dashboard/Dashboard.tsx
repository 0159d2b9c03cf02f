import { useSession } from "../auth/session";
import { Button, Shell } from "../ui/kit";
import { ActivityCard, DataCard } from "./Activity";
import { DevicesCard, SessionsCard } from "./Devices";
import { ProfileCard } from "./Profile";

export function Dashboard() {
  const session = useSession();
  return (
    <Shell>
      <div className="flex items-center justify-between">
        <h1 className="text-2xl font-bold">Your dashboard</h1>
        <Button variant="secondary" onClick={() => session.logout().catch(() => undefined)}>
          Sign out
        </Button>
      </div>
      <ProfileCard />
      <DevicesCard />
      <SessionsCard />
      <ActivityCard />
      <DataCard />
    </Shell>
  );
}
