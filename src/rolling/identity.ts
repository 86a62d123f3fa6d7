/** Who the rolling scheduler is in jobs, approvals and the audit trail. */
import type { Identity } from '../model';

export const ROLLING_IDENTITY: Identity = { source: 'rolling', id: 'rekick', display: 'rolling' };
