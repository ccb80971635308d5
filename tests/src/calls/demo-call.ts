// A real call through the API between two seeded demo users (the platform needs SEED_DEMO=true):
// Alice (patient) calls Dr. Grey, who accepts; both get room tokens from the API.
import { TelemedClient, type Call, type RoomAccess } from '@telemed/sdk';

export interface DemoCall {
  alice: TelemedClient;
  grey: TelemedClient;
  call: Call;
  aliceAccess: RoomAccess;
  greyAccess: RoomAccess;
}

export async function startDemoCall(apiUrl: string): Promise<DemoCall> {
  const alice = new TelemedClient({ baseUrl: apiUrl });
  const grey = new TelemedClient({ baseUrl: apiUrl });
  await alice.login('alice@patients.demo', 'telemed-demo');
  await grey.login('grey@doctors.demo', 'telemed-demo');
  const call = await alice.startCall({ type: 'video', inviteeIds: [grey.user!.id] });
  const { access: greyAccess } = await grey.acceptCall(call.id);
  return { alice, grey, call, aliceAccess: await alice.callToken(call.id), greyAccess };
}
