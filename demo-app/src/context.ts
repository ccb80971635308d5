import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Backend, User } from './backend/types.js';

export interface Session {
  backend: Backend;
  user: User;
}

export const SessionContext = createContext<Session | undefined>(undefined);

/** The signed-in session; only views behind the login use it. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in view');
  return session;
}
