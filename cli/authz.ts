/** `npm run authz -- <command>`: grants per certificate OU and revoked certificates (see client/authz-command.ts). */
import { runAuthz } from '../client/authz-command';
import { runMain } from './checks';

runMain(() => runAuthz(process.argv.slice(2)));
