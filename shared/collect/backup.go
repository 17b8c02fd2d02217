package collect

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/solutions"

	"m365security/shared/graph"
	"m365security/shared/posture"
)

const licenceBackup = "Microsoft 365 Backup (pay-as-you-go billing)"

type backupState struct {
	status   string
	policies []posture.ProtectionPolicy
}

// Backup reads the Microsoft 365 Backup service status and its protection
// policies. A tenant without Backup answers these with a 4xx; that is
// recorded as notLicensed (or forbidden), not as a crash.
func Backup(ctx context.Context, c *graph.Reader, log *slog.Logger) (*posture.Backup, posture.Sources) {
	var st backupState
	srcs := run(ctx, c, collectorLog(log, posture.AreaBackup), backupSources(), &st)
	return &posture.Backup{ServiceStatus: st.status, Policies: st.policies}, srcs
}

func backupSources() []source[backupState] {
	area := posture.AreaBackup
	return []source[backupState]{
		{SourceInfo{
			Name: posture.SrcBackupService, Area: area, Path: "/solutions/backupRestore",
			Query: "$select=serviceStatus", Permission: "BackupRestore-Control.Read.All", Licence: licenceBackup,
		}, fetchBackupService},
		{SourceInfo{
			Name: posture.SrcBackupPolicies, Area: area, Path: "/solutions/backupRestore/protectionPolicies",
			PageSizeSource: "small collection; no $top sent, nextLinks followed",
			Permission:     "BackupRestore-Configuration.Read.All", Licence: licenceBackup,
		}, fetchBackupPolicies},
	}
}

// notEnabled reclassifies a classified Backup failure. The Backup Storage
// API answers 400 or 404 when the service was never enabled or billing is
// missing, with codes that name neither; that is the tenant's licensing
// state, not a failure of the collector.
func notEnabled(err error) error {
	if errors.Is(err, graph.ErrBadRequest) || errors.Is(err, graph.ErrNotFound) {
		return fmt.Errorf("microsoft 365 backup not enabled: %w: %w", graph.ErrNotLicensed, err)
	}
	return err
}

func fetchBackupService(ctx context.Context, r *reader, st *backupState) (int, error) {
	root, err := r.c.SDK().Solutions().BackupRestore().Get(ctx, &solutions.BackupRestoreRequestBuilderGetRequestConfiguration{
		QueryParameters: &solutions.BackupRestoreRequestBuilderGetQueryParameters{Select: []string{"serviceStatus"}},
	})
	r.sent(1, 1)
	if err != nil {
		return 0, notEnabled(wrap("get backup service", err))
	}
	if root == nil || root.GetServiceStatus() == nil || root.GetServiceStatus().GetStatus() == nil {
		return 0, errors.New("get backup service: serviceStatus missing from the answer")
	}
	st.status = root.GetServiceStatus().GetStatus().String()
	return 1, nil
}

func fetchBackupPolicies(ctx context.Context, r *reader, st *backupState) (int, error) {
	b := r.c.SDK().Solutions().BackupRestore().ProtectionPolicies()
	out := []posture.ProtectionPolicy{}
	err := listPages(ctx, r, "list backup protection policies",
		func(ctx context.Context) (models.ProtectionPolicyBaseCollectionResponseable, error) {
			return b.Get(ctx, nil)
		},
		func(ctx context.Context, link string) (models.ProtectionPolicyBaseCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		},
		func(p models.ProtectionPolicyBaseCollectionResponseable) error {
			for _, pp := range p.GetValue() {
				out = append(out, posture.ProtectionPolicy{
					ID:           deref(pp.GetId()),
					DisplayName:  deref(pp.GetDisplayName()),
					Workload:     workloadOf(pp),
					Status:       enumString(pp.GetStatus()),
					LastModified: timeOf(pp.GetLastModifiedDateTime()),
				})
			}
			return nil
		})
	if err != nil {
		return 0, notEnabled(err)
	}
	st.policies = out
	return len(out), nil
}

// workloadOf maps the policy's derived type to its workload.
func workloadOf(p models.ProtectionPolicyBaseable) string {
	switch p.(type) {
	case models.ExchangeProtectionPolicyable:
		return "exchange"
	case models.SharePointProtectionPolicyable:
		return "sharePoint"
	case models.OneDriveForBusinessProtectionPolicyable:
		return "oneDriveForBusiness"
	}
	// A workload newer than the SDK: derive it from Graph's type name.
	t := strings.TrimPrefix(deref(p.GetOdataType()), "#microsoft.graph.")
	return strings.TrimSuffix(t, "ProtectionPolicy")
}
