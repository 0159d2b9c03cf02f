//! Roles and permissions. Every holder of an access token is a `member`;
//! other roles are granted (and revoked) by a `user_admin`, the first one by
//! the operator's `vottery-admin grant` command. A route asks
//! [`authorize`] for one named permission; nothing else decides access.
//!
//! | permission | member | moderator | election_admin | auditor | user_admin | security_admin |
//! |---|---|---|---|---|---|---|
//! | `profile:read_own`, `profile:write_own` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | `activity:read_own`, `activity:write_own` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | `devices:manage_own` (devices, sessions) | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | `data:export_own`, `data:erase_own` | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | `users:read` (look members up) | | ✓ | | ✓ | ✓ | |
//! | `roles:read` | | | | ✓ | ✓ | |
//! | `roles:grant` (and revoke) | | | | | ✓ | |
//! | `sessions:revoke_any` | | | | | ✓ | ✓ |
//! | `content:moderate` | | ✓ | | | | |
//! | `elections:manage` | | | ✓ | | | |
//! | `demographics:read_summary` | | | ✓ | ✓ | | |
//! | `audit:read` | | | | ✓ | | ✓ |
//! | `keys:manage` (rotate, retire, destroy, rewrap) | | | | | | ✓ |
//! | `keys:use` (decrypt, sign as an administrator) | | | | | | ✓ |
//!
//! Granting: a caller with `roles:grant` may grant or revoke only a role
//! they hold themselves; `member` is never granted or revoked; the last
//! active `user_admin` cannot be revoked.
//!
//! ```text
//!   (no grant) ──grant──▶ (active) ──revoke──▶ (revoked)
//!                            │
//!                            └──expires_at passes──▶ (expired)
//! ```
#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};

/// A role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Member,
    Moderator,
    ElectionAdmin,
    Auditor,
    UserAdmin,
    SecurityAdmin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Member, Role::Moderator, Role::ElectionAdmin, Role::Auditor, Role::UserAdmin, Role::SecurityAdmin];

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Moderator => "moderator",
            Self::ElectionAdmin => "election_admin",
            Self::Auditor => "auditor",
            Self::UserAdmin => "user_admin",
            Self::SecurityAdmin => "security_admin",
        }
    }

    /// The permissions the role holds (see the table in the crate docs).
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Member => MEMBER,
            Self::Moderator => &[UsersRead, ContentModerate],
            Self::ElectionAdmin => &[ElectionsManage, DemographicsReadSummary],
            Self::Auditor => &[UsersRead, RolesRead, DemographicsReadSummary, AuditRead],
            Self::UserAdmin => &[UsersRead, RolesRead, RolesGrant, SessionsRevokeAny],
            Self::SecurityAdmin => &[SessionsRevokeAny, AuditRead, KeysManage, KeysUse],
        }
    }
}

const MEMBER: &[Permission] = &[
    Permission::ProfileReadOwn,
    Permission::ProfileWriteOwn,
    Permission::ActivityReadOwn,
    Permission::ActivityWriteOwn,
    Permission::DevicesManageOwn,
    Permission::DataExportOwn,
    Permission::DataEraseOwn,
];

/// A named permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ProfileReadOwn,
    ProfileWriteOwn,
    ActivityReadOwn,
    ActivityWriteOwn,
    DevicesManageOwn,
    DataExportOwn,
    DataEraseOwn,
    UsersRead,
    RolesRead,
    RolesGrant,
    SessionsRevokeAny,
    ContentModerate,
    ElectionsManage,
    DemographicsReadSummary,
    AuditRead,
    KeysManage,
    KeysUse,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Self::ProfileReadOwn,
        Self::ProfileWriteOwn,
        Self::ActivityReadOwn,
        Self::ActivityWriteOwn,
        Self::DevicesManageOwn,
        Self::DataExportOwn,
        Self::DataEraseOwn,
        Self::UsersRead,
        Self::RolesRead,
        Self::RolesGrant,
        Self::SessionsRevokeAny,
        Self::ContentModerate,
        Self::ElectionsManage,
        Self::DemographicsReadSummary,
        Self::AuditRead,
        Self::KeysManage,
        Self::KeysUse,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ProfileReadOwn => "profile:read_own",
            Self::ProfileWriteOwn => "profile:write_own",
            Self::ActivityReadOwn => "activity:read_own",
            Self::ActivityWriteOwn => "activity:write_own",
            Self::DevicesManageOwn => "devices:manage_own",
            Self::DataExportOwn => "data:export_own",
            Self::DataEraseOwn => "data:erase_own",
            Self::UsersRead => "users:read",
            Self::RolesRead => "roles:read",
            Self::RolesGrant => "roles:grant",
            Self::SessionsRevokeAny => "sessions:revoke_any",
            Self::ContentModerate => "content:moderate",
            Self::ElectionsManage => "elections:manage",
            Self::DemographicsReadSummary => "demographics:read_summary",
            Self::AuditRead => "audit:read",
            Self::KeysManage => "keys:manage",
            Self::KeysUse => "keys:use",
        }
    }
}

/// Whether any of `roles` holds `permission`. Every caller is a member.
pub fn authorize(roles: &[Role], permission: Permission) -> bool {
    MEMBER.contains(&permission) || roles.iter().any(|r| r.permissions().contains(&permission))
}

/// The roles of a token's `roles` claim (or the gateway's `vottery-roles`
/// header, comma-separated); names this policy does not know are dropped.
pub fn roles_of<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<Role> {
    let mut roles: Vec<Role> = names.into_iter().filter_map(|n| Role::parse(n.trim())).collect();
    roles.sort_unstable();
    roles.dedup();
    roles
}

/// Why a grant or a revocation is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRefusal {
    /// The caller lacks `roles:grant`.
    NotPermitted,
    /// The caller does not hold the role themselves.
    RoleNotHeld,
    /// `member` is every member's, neither granted nor revoked.
    NotGrantable,
    /// The role's last active holder would lose it.
    LastHolder,
}

/// Whether a caller holding `caller` may grant or revoke `role`.
pub fn may_grant(caller: &[Role], role: Role) -> Result<(), GrantRefusal> {
    if role == Role::Member {
        return Err(GrantRefusal::NotGrantable);
    }
    if !authorize(caller, Permission::RolesGrant) {
        return Err(GrantRefusal::NotPermitted);
    }
    if !caller.contains(&role) {
        return Err(GrantRefusal::RoleNotHeld);
    }
    Ok(())
}

/// Whether `role` may be revoked from one of its `active_holders`: the last
/// `user_admin` stays (nobody could grant roles again).
pub fn may_revoke(caller: &[Role], role: Role, active_holders: u64) -> Result<(), GrantRefusal> {
    may_grant(caller, role)?;
    if role == Role::UserAdmin && active_holders <= 1 {
        return Err(GrantRefusal::LastHolder);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table of the crate docs, row by row.
    #[test]
    fn every_permission_of_every_role_is_as_documented() {
        use Permission::*;
        let table: [(Permission, [bool; 6]); 17] = [
            (ProfileReadOwn, [true; 6]),
            (ProfileWriteOwn, [true; 6]),
            (ActivityReadOwn, [true; 6]),
            (ActivityWriteOwn, [true; 6]),
            (DevicesManageOwn, [true; 6]),
            (DataExportOwn, [true; 6]),
            (DataEraseOwn, [true; 6]),
            (UsersRead, [false, true, false, true, true, false]),
            (RolesRead, [false, false, false, true, true, false]),
            (RolesGrant, [false, false, false, false, true, false]),
            (SessionsRevokeAny, [false, false, false, false, true, true]),
            (ContentModerate, [false, true, false, false, false, false]),
            (ElectionsManage, [false, false, true, false, false, false]),
            (DemographicsReadSummary, [false, false, true, true, false, false]),
            (AuditRead, [false, false, false, true, false, true]),
            (KeysManage, [false, false, false, false, false, true]),
            (KeysUse, [false, false, false, false, false, true]),
        ];
        assert_eq!(table.len(), Permission::ALL.len());
        for (permission, allowed) in table {
            for (role, expected) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(authorize(&[role], permission), expected, "{} {}", role.as_str(), permission.as_str());
            }
        }
    }

    #[test]
    fn a_caller_without_roles_is_a_member() {
        assert!(authorize(&[], Permission::ProfileReadOwn));
        assert!(!authorize(&[], Permission::UsersRead));
    }

    #[test]
    fn names_round_trip_and_unknown_roles_are_dropped() -> Result<(), serde_json::Error> {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role)?, role.as_str());
        }
        assert_eq!(roles_of("member, user_admin,root,user_admin".split(',')), [Role::Member, Role::UserAdmin]);
        let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
        assert!(names.iter().all(|n| n.contains(':')));
        Ok(())
    }

    #[test]
    fn nobody_grants_a_role_they_do_not_hold() {
        let admin = [Role::UserAdmin];
        assert_eq!(may_grant(&admin, Role::UserAdmin), Ok(()));
        assert_eq!(may_grant(&admin, Role::SecurityAdmin), Err(GrantRefusal::RoleNotHeld));
        assert_eq!(may_grant(&[Role::UserAdmin, Role::SecurityAdmin], Role::SecurityAdmin), Ok(()));
        assert_eq!(may_grant(&[Role::SecurityAdmin], Role::SecurityAdmin), Err(GrantRefusal::NotPermitted));
        assert_eq!(may_grant(&admin, Role::Member), Err(GrantRefusal::NotGrantable));
    }

    #[test]
    fn the_last_user_admin_cannot_be_revoked() {
        let admin = [Role::UserAdmin];
        assert_eq!(may_revoke(&admin, Role::UserAdmin, 1), Err(GrantRefusal::LastHolder));
        assert_eq!(may_revoke(&admin, Role::UserAdmin, 2), Ok(()));
        assert_eq!(may_revoke(&[Role::UserAdmin, Role::Auditor], Role::Auditor, 1), Ok(()));
    }
}
