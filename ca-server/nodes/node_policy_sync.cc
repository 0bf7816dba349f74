#include "ca-server/nodes/node_policy_sync.h"

#include <charconv>
#include <set>
#include <utility>

#include "ca-server/auth/locks.h"

namespace gate::ca {
namespace {

// A full page's cursor: "<revision>.<r|u>.<last name>", the revision of
// the first page and the last role (r) or user (u) sent.
struct Cursor {
  std::int64_t revision = 0;
  bool users = false;
  std::string after;
};

std::string FormatCursor(const Cursor& cursor) {
  return std::to_string(cursor.revision) + (cursor.users ? ".u." : ".r.") + cursor.after;
}

Result<Cursor> ParseCursor(const std::string& text, std::int64_t current) {
  const Status bad = InvalidArgument("malformed policy page cursor; start again without one");
  const std::size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 18 || text.size() < dot + 4 ||
      text[dot + 2] != '.' || (text[dot + 1] != 'r' && text[dot + 1] != 'u')) {
    return Err(bad);
  }
  Cursor cursor;
  auto [end, ec] = std::from_chars(text.data(), text.data() + dot, cursor.revision);
  if (ec != std::errc() || end != text.data() + dot || cursor.revision < 1 ||
      cursor.revision > current) {
    return Err(bad);
  }
  cursor.users = text[dot + 1] == 'u';
  cursor.after = text.substr(dot + 3);
  return cursor;
}

// The header every reply carries, and the parts bounded by certificate
// lifetime that travel whole.
Status FillWholeParts(StoreOperations& tx, const NodePolicyContext& context, const NodeRecord& node,
                      std::int64_t now, NodePolicyReply& reply) {
  auto current = tx.GetNode(node.host_uuid);
  if (!current) return current.error();
  auto locks = tx.ListLocks();
  if (!locks) return locks.error();
  auto revocations = tx.ListRevocations(now);
  if (!revocations) return revocations.error();
  reply.snapshot.node_labels = current->labels;
  reply.snapshot.locks = LocksInForce(*locks, now);
  reply.krl = EncodeNodeKrl(context, *revocations, reply.snapshot.revoked_serials);
  reply.has_krl = true;
  return Status::Ok();
}

// One page: roles after the cursor, then users, kNodePolicyPageSize in all.
Status FillPage(StoreOperations& tx, Cursor cursor, NodePolicyReply& reply) {
  std::size_t room = kNodePolicyPageSize;
  if (!cursor.users) {
    auto roles = tx.ListRolesAfter(cursor.after, room);
    if (!roles) return roles.error();
    room -= roles->size();
    if (!roles->empty()) cursor.after = roles->back().name;
    reply.snapshot.roles = *std::move(roles);
    if (room == 0) {
      reply.next_cursor = FormatCursor(cursor);
      return Status::Ok();
    }
    cursor = {cursor.revision, true, ""};
  }
  auto users = tx.ListUsersAfter(cursor.after, room);
  if (!users) return users.error();
  for (const auto& u : *users) reply.snapshot.users.push_back({u.name, u.logins, u.roles});
  if (users->size() == room) {
    cursor.after = users->back().name;
    reply.next_cursor = FormatCursor(cursor);
  }
  return Status::Ok();
}

// The delta since `since`, or false if it would name more than
// kMaxNodePolicyDelta users and roles.
Result<bool> FillDelta(StoreOperations& tx, std::int64_t since, NodePolicyReply& reply) {
  auto changes = tx.ListPolicyChanges(since, kMaxNodePolicyDelta + 1);
  if (!changes) return Err(changes.error());
  if (changes->size() > kMaxNodePolicyDelta) return false;
  // The log is by revision; a node applies users and roles by name.
  std::set<std::string> users, roles;
  for (const PolicyChange& change : *changes) {
    if (change.kind == kPolicyChangeUser) users.insert(change.name);
    if (change.kind == kPolicyChangeRole) roles.insert(change.name);
  }
  for (const std::string& name : users) {
    auto user = tx.GetUser(name);
    if (user) {
      reply.snapshot.users.push_back({user->name, user->logins, user->roles});
    } else if (user.error().code() == Code::kNotFound) {
      reply.removed_users.push_back(name);
    } else {
      return Err(user.error());
    }
  }
  for (const std::string& name : roles) {
    auto role = tx.GetRole(name);
    if (role) {
      reply.snapshot.roles.push_back(*std::move(role));
    } else if (role.error().code() == Code::kNotFound) {
      reply.removed_roles.push_back(name);
    } else {
      return Err(role.error());
    }
  }
  return true;
}

Status Answer(StoreOperations& tx, const NodePolicyContext& context, const NodeRecord& node,
              const NodePolicyRequest& request, std::int64_t now, NodePolicyReply& reply,
              PolicyRevision& revision) {
  auto rev = tx.GetPolicyRevision();
  if (!rev) return rev.error();
  revision = *rev;
  reply.snapshot.cluster_name = context.cluster_name;
  reply.snapshot.host_uuid = node.host_uuid;
  reply.snapshot.generated_at = now;

  if (!request.cursor.empty()) {
    auto cursor = ParseCursor(request.cursor, rev->revision);
    if (!cursor) return cursor.error();
    reply.shape = NodePolicyReply::Shape::kFullPage;
    reply.revision = cursor->revision;
    return FillPage(tx, *cursor, reply);
  }
  reply.revision = rev->revision;
  reply.snapshot.revision = rev->revision;
  if (request.since == rev->revision) {
    reply.shape = NodePolicyReply::Shape::kUnchanged;
    return Status::Ok();
  }
  if (request.since >= rev->oldest && request.since < rev->revision) {
    auto fits = FillDelta(tx, request.since, reply);
    if (!fits) return fits.error();
    if (*fits) {
      reply.shape = NodePolicyReply::Shape::kDelta;
      reply.base = request.since;
      return FillWholeParts(tx, context, node, now, reply);
    }
    reply.snapshot.users.clear();
    reply.snapshot.roles.clear();
    reply.removed_users.clear();
    reply.removed_roles.clear();
  }
  reply.shape = NodePolicyReply::Shape::kFullPage;
  GATE_RETURN_IF_ERROR(FillWholeParts(tx, context, node, now, reply));
  return FillPage(tx, {rev->revision, false, ""}, reply);
}

}  // namespace

Result<NodePolicyReply> ServeNodePolicy(Store& store, const NodePolicyContext& context,
                                        const NodeRecord& node, const NodePolicyRequest& request,
                                        std::int64_t now) {
  if (request.since < 0) return Err(InvalidArgument("since must not be negative"));
  NodePolicyReply reply;
  PolicyRevision revision;
  GATE_RETURN_IF_ERROR(store.InReadTransaction([&](StoreOperations& tx) {
    return Answer(tx, context, node, request, now, reply, revision);
  }));
  const bool complete =
      reply.shape != NodePolicyReply::Shape::kFullPage || reply.next_cursor.empty();
  if (!complete) return reply;
  Status recorded = store.InTransaction([&](StoreOperations& tx) -> Status {
    GATE_RETURN_IF_ERROR(tx.RecordNodeSync(node.host_uuid, now, reply.revision));
    if (revision.revision - revision.oldest < 2 * kPolicyLogRevisions) return Status::Ok();
    return tx.PrunePolicyChanges(kPolicyLogRevisions);
  });
  if (!recorded.ok()) return Err(recorded);
  return reply;
}

}  // namespace gate::ca
