import type { components } from "@vottery/identity-client";

type CreationOptions = components["schemas"]["PublicKeyCredentialCreationOptions"];
type RequestOptions = components["schemas"]["PublicKeyCredentialRequestOptions"];
export type RegistrationCredential = components["schemas"]["RegistrationCredential"];
export type AuthenticationCredential = components["schemas"]["AuthenticationCredential"];

/** What this browser offers for step 3. */
export interface PasskeySupport {
  webauthn: boolean;
  platform: boolean;
  jsonOptions: boolean;
  conditional: boolean;
}

export async function passkeySupport(): Promise<PasskeySupport> {
  if (typeof PublicKeyCredential === "undefined" || !window.isSecureContext) {
    return { webauthn: false, platform: false, jsonOptions: false, conditional: false };
  }
  const platform = await PublicKeyCredential.isUserVerifyingPlatformAuthenticatorAvailable();
  const conditional =
    typeof PublicKeyCredential.isConditionalMediationAvailable === "function" &&
    (await PublicKeyCredential.isConditionalMediationAvailable());
  return {
    webauthn: true,
    platform,
    jsonOptions: typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function",
    conditional,
  };
}

function fromBase64url(text: string): ArrayBuffer {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return bytes.buffer;
}

function toBase64url(buffer: ArrayBuffer): string {
  let text = "";
  for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function creationOptions(json: CreationOptions): PublicKeyCredentialCreationOptions {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json as PublicKeyCredentialCreationOptionsJSON);
  }
  const options = json as unknown as PublicKeyCredentialCreationOptionsJSON;
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    user: { ...options.user, id: fromBase64url(options.user.id) },
    excludeCredentials: options.excludeCredentials?.map((c) => ({ ...c, id: fromBase64url(c.id) })),
  } as PublicKeyCredentialCreationOptions;
}

function requestOptions(json: RequestOptions): PublicKeyCredentialRequestOptions {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json as PublicKeyCredentialRequestOptionsJSON);
  }
  const options = json as unknown as PublicKeyCredentialRequestOptionsJSON;
  return {
    ...options,
    challenge: fromBase64url(options.challenge),
    allowCredentials: options.allowCredentials?.map((c) => ({ ...c, id: fromBase64url(c.id) })),
  } as PublicKeyCredentialRequestOptions;
}

function asJson(credential: PublicKeyCredential): unknown {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const response = credential.response as AuthenticatorAttestationResponse & AuthenticatorAssertionResponse;
  const base = { id: credential.id, rawId: toBase64url(credential.rawId), type: credential.type };
  const extensions = credential.getClientExtensionResults();
  if ("attestationObject" in response && response.attestationObject) {
    return {
      ...base,
      clientExtensionResults: extensions,
      authenticatorAttachment: credential.authenticatorAttachment,
      response: {
        clientDataJSON: toBase64url(response.clientDataJSON),
        attestationObject: toBase64url(response.attestationObject),
        transports: response.getTransports?.() ?? [],
      },
    };
  }
  return {
    ...base,
    clientExtensionResults: extensions,
    authenticatorAttachment: credential.authenticatorAttachment,
    response: {
      clientDataJSON: toBase64url(response.clientDataJSON),
      authenticatorData: toBase64url(response.authenticatorData),
      signature: toBase64url(response.signature),
      userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
    },
  };
}

/** Makes a passkey with the options exactly as the service served them. */
export async function createPasskey(options: CreationOptions): Promise<RegistrationCredential> {
  const credential = (await navigator.credentials.create({ publicKey: creationOptions(options) })) as PublicKeyCredential;
  return asJson(credential) as RegistrationCredential;
}

/** Signs in with a passkey; `conditional` uses the browser's autofill prompt. */
export async function getPasskey(
  options: RequestOptions,
  conditional = false,
  signal?: AbortSignal,
): Promise<AuthenticationCredential> {
  const request: CredentialRequestOptions = { publicKey: requestOptions(options) };
  if (conditional) request.mediation = "conditional";
  if (signal) request.signal = signal;
  const credential = (await navigator.credentials.get(request)) as PublicKeyCredential;
  return asJson(credential) as AuthenticationCredential;
}
