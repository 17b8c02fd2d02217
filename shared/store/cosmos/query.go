package cosmos

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/azcosmos"

	"m365security/shared/store"
)

// timeKeyLayout is the layout store.TimeKey formats with.
const timeKeyLayout = "2006-01-02T15:04:05.000000000Z"

// Query returns one page of matching documents from the tenant's partition,
// ordered by time then id.
//
// Paging is keyset pagination rather than the SDK's continuation token: the
// SQL asks for TOP limit+1 items after the (time, id) of the previous page's
// last document, the pager is drained (Cosmos may return short or empty
// pages with a continuation) until that many arrive or it ends, and an extra
// item means another page exists. The token is this package's own (time, id,
// direction), so it resumes exactly after the last document returned, needs
// no server-side state, survives SDK upgrades, and stays valid across writes
// between pages.
func (s *Store) Query(ctx context.Context, q store.Query) (store.Page, error) {
	c, after, err := s.validateQuery(q)
	if err != nil {
		return store.Page{}, fmt.Errorf("query %s/%s: %w", q.Kind, q.TenantID, err)
	}
	size := q.PageSize()
	sql, params := buildQuery(q, after, size+1)
	off := false
	pager := c.NewQueryItemsPager(sql, azcosmos.NewPartitionKeyString(q.TenantID), &azcosmos.QueryOptions{
		QueryParameters: params,
		PageSizeHint:    int32(size + 1),
		// The partition key names exactly one partition; never fan out.
		EnableCrossPartitionQuery: &off,
	})
	docs := make([]store.Doc, 0, size+1)
	for pager.More() && len(docs) <= size {
		resp, err := pager.NextPage(ctx)
		if err != nil {
			return store.Page{}, fmt.Errorf("query %s/%s: %w", q.Kind, q.TenantID, classify(err))
		}
		for _, raw := range resp.Items {
			d, err := decodeItem(q.Kind, raw)
			if err != nil {
				return store.Page{}, fmt.Errorf("query %s/%s: %w", q.Kind, q.TenantID, err)
			}
			docs = append(docs, d)
		}
	}
	var page store.Page
	if len(docs) > size {
		docs = docs[:size]
		last := docs[size-1]
		page.Continuation = encodeToken(cursor{Time: store.TimeKey(last.Time), ID: last.ID}, q.Descending)
	}
	page.Docs = docs
	return page, nil
}

// cursor is a position on the (time, id) order.
type cursor struct {
	Time string
	ID   string
}

// buildQuery renders q as parameterised SQL. Only attr keys, checked
// by store.ValidateAttrKeys, and fixed fragments are spliced in.
func buildQuery(q store.Query, after *cursor, top int) (string, []azcosmos.QueryParameter) {
	var sql strings.Builder
	params := []azcosmos.QueryParameter{
		{Name: "@top", Value: top},
		{Name: "@tenantId", Value: q.TenantID},
	}
	sql.WriteString("SELECT TOP @top * FROM c WHERE c.tenantId = @tenantId")
	if !q.From.IsZero() {
		sql.WriteString(" AND c.time >= @from")
		params = append(params, azcosmos.QueryParameter{Name: "@from", Value: store.TimeKey(q.From)})
	}
	if !q.To.IsZero() {
		sql.WriteString(" AND c.time < @to")
		params = append(params, azcosmos.QueryParameter{Name: "@to", Value: store.TimeKey(q.To)})
	}
	for i, k := range slices.Sorted(maps.Keys(q.Attrs)) {
		name := fmt.Sprintf("@a%d", i)
		fmt.Fprintf(&sql, " AND c.attrs.%s = %s", k, name)
		params = append(params, azcosmos.QueryParameter{Name: name, Value: q.Attrs[k]})
	}
	op, dir := ">", "ASC"
	if q.Descending {
		op, dir = "<", "DESC"
	}
	if after != nil {
		fmt.Fprintf(&sql, " AND (c.time %s @afterTime OR (c.time = @afterTime AND c.id %s @afterId))", op, op)
		params = append(params,
			azcosmos.QueryParameter{Name: "@afterTime", Value: after.Time},
			azcosmos.QueryParameter{Name: "@afterId", Value: after.ID})
	}
	fmt.Fprintf(&sql, " ORDER BY c.time %s, c.id %s", dir, dir)
	return sql.String(), params
}

// token is the continuation's wire form, base64url JSON so it stays opaque
// and URL-safe. It matches the embedded store's format.
type token struct {
	V    int    `json:"v"`
	Time string `json:"t"`
	ID   string `json:"i"`
	Desc bool   `json:"d,omitempty"`
}

const tokenVersion = 1

func encodeToken(c cursor, desc bool) string {
	b, _ := json.Marshal(token{V: tokenVersion, Time: c.Time, ID: c.ID, Desc: desc})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string, desc bool) (*cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: continuation token is not base64url", store.ErrInvalid)
	}
	var t token
	if err := json.Unmarshal(raw, &t); err != nil || t.V != tokenVersion || t.ID == "" {
		return nil, fmt.Errorf("%w: continuation token is malformed", store.ErrInvalid)
	}
	if _, err := time.Parse(timeKeyLayout, t.Time); err != nil || len(t.Time) != len(timeKeyLayout) {
		return nil, fmt.Errorf("%w: continuation token has a bad time", store.ErrInvalid)
	}
	if t.Desc != desc {
		return nil, fmt.Errorf("%w: continuation token belongs to a query in the other direction", store.ErrInvalid)
	}
	return &cursor{Time: t.Time, ID: t.ID}, nil
}

// container checks a document key and returns its kind's container.
func (s *Store) container(kind store.Kind, tenantID, id string) (*azcosmos.ContainerClient, error) {
	if err := store.ValidateKey(kind, tenantID, id); err != nil {
		return nil, err
	}
	c, ok := s.containers[kind]
	if !ok {
		return nil, fmt.Errorf("%w: no container for kind %q", store.ErrInvalid, kind)
	}
	return c, nil
}

func (s *Store) validateDoc(d store.Doc, mode store.WriteMode) (*azcosmos.ContainerClient, error) {
	if err := d.ValidateWrite(mode); err != nil {
		return nil, err
	}
	return s.container(d.Kind, d.TenantID, d.ID)
}

// validateQuery checks q and returns its container and the cursor its
// continuation resumes after (nil for the first page).
func (s *Store) validateQuery(q store.Query) (*azcosmos.ContainerClient, *cursor, error) {
	if err := q.ValidateRead(); err != nil {
		return nil, nil, err
	}
	c, ok := s.containers[q.Kind]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no container for kind %q", store.ErrInvalid, q.Kind)
	}
	if q.Continuation == "" {
		return c, nil, nil
	}
	after, err := decodeToken(q.Continuation, q.Descending)
	return c, after, err
}
