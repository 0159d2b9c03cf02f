/** The build's configuration (`.env`, `VITE_*`). */
export const config = {
  sngineOrigins: (import.meta.env.VITE_SNGINE_ORIGINS ?? "")
    .split(",")
    .map((origin: string) => origin.trim())
    .filter(Boolean),
  sngineRegisterUrl: import.meta.env.VITE_SNGINE_REGISTER_URL ?? "",
};
