// Every part of the Store conformance suite, registered as one typed suite,
// and the one line a backend instantiates it with (store_conformance.h).
#ifndef GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ALL_H_
#define GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ALL_H_

#include "ca-server/store_conformance.h"
#include "ca-server/store_conformance_devices.h"
#include "ca-server/store_conformance_nodes.h"
#include "ca-server/store_conformance_policy_log.h"
#include "ca-server/store_conformance_roles.h"
#include "ca-server/store_conformance_sessions.h"
#include "ca-server/store_conformance_transactions.h"
#include "ca-server/store_conformance_users.h"
#include "ca-server/store_conformance_web_sessions.h"

namespace gate::ca::store_conformance {

REGISTER_TYPED_TEST_SUITE_P(
    StoreConformanceTest, CreateAndGetUserRoundTrips, NewUserHasNoCredentials,
    CreateUserTwiceIsAlreadyExists, CreateUserRejectsEmptyName, GetMissingUserIsNotFound,
    ListUsersIsSortedByNameWithLists, ListUsersOnEmptyStore, DeleteUserRemovesUserAndTokens,
    ResetUserCredentials, UpsertSsoUserCreatesUpdatesAndNeverTakesOver,
    LoginFailuresRoundTripPerUserAndSource, ConsumeTotpStepIsMonotonic,
    ConsumeTotpStepAcceptsEachStepOnceAcrossThreads, SignupTokenCrud,
    SignupTokenForMissingUserIsNotFound, OfferTotpSecretKeepsTheFirstOffer,
    CompleteSignupSetsCredentialsAndConsumesToken, CompleteSignupWithoutOtp,
    CompleteSignupRefusedByTheCheckChangesNothing, CompleteSignupRejectsEmptyPasswordHash,
    DeleteExpiredSignupTokens, CertificateSerialReuseIsRejected,
    SerialReuseIsRejectedEvenAfterUserDeletion, LargeSerialsRoundTrip,
    ListCertificatesFiltersByUser, AuditIsNewestFirst, PersistsAcrossReopen,
    ModifyRoleStoresAndReturnsTheChangedRole, ModifyRolePassesTheStoredRole,
    ChangeErrorIsReturnedAndWritesNothing, ModifyMissingRoleIsNotFoundWithoutCallingChange,
    ModifyRoleRefusesRename, ConcurrentModificationsAreNotLost, RoleRoundTripsEveryField,
    RoleRecordingFlagsRoundTripAndUpdate, RoleWithoutLoginsAndWithWildcardSelector,
    CreateRoleTwiceIsAlreadyExistsAndKeepsTheFirst, GetMissingRoleIsNotFound,
    UpdateRoleReplacesEverything, ListRolesIsSortedByNameWithChildren,
    DeleteRoleHeldByUsersIsRefusedAndNamesThem, DeleteRoleNamesAFewHoldersOnly,
    UpdateUserReplacesOnlyTheListsGiven, UpdateUserRefusesMissingUserOrRoleAndChangesNothing,
    LocksAreOnePerUserAndReplaceable, LockNeedsAUserAndGoesWithIt, DeleteLock, NodeTokenRoundTrips,
    ConsumeNodeTokenReturnsTheTokenOnce, CreateNodeStoresEveryFieldOnce,
    FailedJoinRestoresTheConsumedToken, NodePrincipalsAreOrderedAndUniqueAcrossNodes,
    NodeTokenPrincipalsRoundTripAndGoWithTheToken, CreateNodeRefusesEmptyIdentity,
    OneNodeTokenIsConsumedOnceAcrossThreads, OneTokenAdmitsOneNodeAcrossThreads,
    DeleteExpiredNodeTokens, ListNodesSortsByHostnameWithLabels, RecordNodeSyncAndDeleteNode,
    RevocationPrimitives, RevokeCertificateByIssuedSerial, RevokingTwiceChangesNothing,
    RevokeUnknownSerialIsNotFound, RevokeUserCertificatesTakesOnlyLiveUnrevokedOnes,
    DeletedUsersCertificatesStayRevocable, ListRevocationsDropsExpiredCertificates,
    EverythingPersistsAcrossReopen, CreateGetAndEveryField, SizeAndCompletion, ListFiltersAndOrder,
    VisibilityIsOwnerOrListedNodes, PagesFollowTheCursorWithoutGapsOrRepeats,
    RareMatchesOlderThanThousandsOfSessionsAreFound, CountLiveSessionsPerNode,
    RecorderKeyRoundTrips, SshAddressRoundTrips, SessionsSurviveTheirNode,
    TransactionCommitsEveryOperationTogether, TransactionRollsBackEverythingOnError,
    FailedOperationInsideATransactionWritesNothingOfItself,
    ReadProceedsWhileAWriteTransactionIsOpen, ReadTransactionReadsOneSnapshot,
    WriteInAReadTransactionFailsAndChangesNothing, OneSignupTokenSignsUpOnceAcrossThreads,
    OneTotpStepIsAcceptedOnceAcrossThreads, LoginFailureCountsInTransactionsAreNotLost,
    MigratesFromThePreviousSchemaVersion, EveryPolicyChangeMovesTheRevisionAndIsLogged,
    WhatNodesDoNotSeeLeavesTheRevision, ChangesSinceNameEachThingOnceAtItsLastChange,
    RolledBackChangesLeaveNoRevision, PruningKeepsTheNewestRevisions, UsersAndRolesInPages,
    ResetKeepsUsedTokensAndEndsWebSessions, WebSessionRoundTripsEveryField,
    WebSessionCreateRefusesBadInput, WebSessionsListOldestFirstPerUser, WebSessionTouchAndDelete,
    WebSessionsGoWithTheirUser, DeleteStaleWebSessionsByExpiryOrIdleness,
    WebSessionsPersistAndRollBack, DevicesRoundTripEveryFieldOldestFirst,
    AddDeviceRefusesBadInputAndChangesNothing, RemoveDeviceAndTheNextTotpDeviceServesOtp,
    WebauthnCounterOnlyMovesForward, OneWebauthnCounterIsAcceptedOnceAcrossThreads, RecordDeviceUse,
    DevicesGoWithResetDeletionAndSignup, UserListsCarryEachUsersOtp);

}  // namespace gate::ca::store_conformance

// Runs the whole suite against Backend, with test names Prefix/...
// (Backend fully qualified).
#define GATE_INSTANTIATE_STORE_CONFORMANCE(Prefix, Backend)              \
  namespace gate::ca::store_conformance {                                \
  INSTANTIATE_TYPED_TEST_SUITE_P(Prefix, StoreConformanceTest, Backend); \
  }

#endif  // GATE_TESTS_UNIT_CA_SERVER_STORE_CONFORMANCE_ALL_H_
