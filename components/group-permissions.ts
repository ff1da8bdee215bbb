export type GroupRole = "owner" | "admin" | "member";

/**
 * What the group info panel offers a caller with this role; the server checks the same rules,
 * the UI only hides what would be refused. Owner and admins manage info and members, admins
 * remove plain members only, and only the owner hands out or takes back admin.
 */
export function permissionsFor(role: GroupRole) {
  const manager = role === "owner" || role === "admin";
  return {
    editInfo: manager,
    addMembers: manager,
    setRoles: role === "owner",
    remove: (target: GroupRole) => (role === "owner" ? target !== "owner" : role === "admin" && target === "member"),
  };
}
