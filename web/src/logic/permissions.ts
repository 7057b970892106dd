// What each role may do in the console, mirroring moby-server's rules: viewer reads (APIs and
// /ws), operator also acknowledges/resolves alerts and edits devices, admin also manages users
// and tokens; device only publishes. The server decides (403); the console only avoids offering
// what would be refused and says why.
import type { Role } from '../api/types';
import type { Messages } from '../i18n/en';

export type Permission = 'read' | 'acknowledge' | 'resolve' | 'editDevice' | 'manageAccess';

const granted: Record<Role, readonly Permission[]> = {
  viewer: ['read'],
  operator: ['read', 'acknowledge', 'resolve', 'editDevice'],
  admin: ['read', 'acknowledge', 'resolve', 'editDevice', 'manageAccess'],
  device: [],
};

/** Whether `role` may do `action`; an unknown role (a newer server's) may do nothing here. */
export function can(role: string | null | undefined, action: Permission): boolean {
  if (!role || !Object.prototype.hasOwnProperty.call(granted, role)) return false;
  return granted[role as Role].includes(action);
}

/** Roles a person logs in with (the Access page's user form). */
export const userRoles: readonly Role[] = ['viewer', 'operator', 'admin'];

/** Roles a token may carry (the Access page's token form): people's roles and `device`. */
export const tokenRoles: readonly Role[] = ['viewer', 'operator', 'admin', 'device'];

/** A role as the operator reads it ("viewer" / "조회자"); an unknown one as the server spells it. */
export function roleLabel(role: string, t: Messages): string {
  switch (role) {
    case 'viewer':
      return t.role_viewer;
    case 'operator':
      return t.role_operator;
    case 'admin':
      return t.role_admin;
    case 'device':
      return t.role_device;
    default:
      return role;
  }
}

/** Why a control is disabled: "Your role (viewer) cannot acknowledge or resolve alerts."; null when allowed. */
export function deniedReason(role: string | null | undefined, action: Exclude<Permission, 'read'>, t: Messages): string | null {
  if (can(role, action)) return null;
  const label = roleLabel(role ?? '', t);
  switch (action) {
    case 'acknowledge':
    case 'resolve':
      return t.roleCannotAct(label);
    case 'editDevice':
      return t.roleCannotEdit(label);
    case 'manageAccess':
      return t.roleCannotManage(label);
  }
}
