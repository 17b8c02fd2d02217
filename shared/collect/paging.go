package collect

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
)

// pager is a Graph collection page as the SDK returns it.
type pager interface {
	GetOdataNextLink() *string
}

// listPages reads a collection: first fetches the first page, next fetches
// an @odata.nextLink verbatim (the request builder's WithUrl), and each
// converts one page. Pages are converted as they arrive and then dropped, so
// no SDK model outlives its page. This costs one request per page, like
// msgraphcore.PageIterator, without its per-page reflection and per-item
// callback (see BenchmarkPaging).
func listPages[P pager](ctx context.Context, r *reader, op string,
	first func(context.Context) (P, error), next func(context.Context, string) (P, error), each func(P) error,
) error {
	page, err := first(ctx)
	prev := ""
	for {
		r.sent(1, 1)
		if err != nil {
			return wrap(op, err)
		}
		if any(page) == nil {
			return nil
		}
		if err := each(page); err != nil {
			return err
		}
		link := page.GetOdataNextLink()
		if link == nil || *link == "" {
			return nil
		}
		// A service that hands back the page just read would otherwise be
		// paged forever.
		if *link == prev {
			return fmt.Errorf("%s: Graph returned the same nextLink twice: %s", op, *link)
		}
		// The SDK sends the tenant's token wherever the link points.
		if _, err := followable(r.c.BaseURL(), *link); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		prev = *link
		if err := ctx.Err(); err != nil {
			return wrap(op, err)
		}
		page, err = next(ctx, *link)
	}
}

// followable checks that a nextLink stays on the Graph service the client
// was built for (scheme, host and version root) and returns it relative to
// base. Both paging paths, the SDK's and $batch, follow a link only after
// this check: a link elsewhere would carry the tenant's token with it.
func followable(base, link string) (string, error) {
	rel, ok := relativeURL(base, link)
	if !ok {
		return "", fmt.Errorf("nextLink %s is not under %s", link, base)
	}
	return rel, nil
}

// relativeURL turns an absolute Graph URL (a nextLink) into the form $batch
// items take: the path after the version segment of base, with its query.
func relativeURL(base, link string) (string, bool) {
	b, err := url.Parse(base)
	if err != nil {
		return "", false
	}
	u, err := url.Parse(link)
	if err != nil || !strings.EqualFold(u.Host, b.Host) || !strings.EqualFold(u.Scheme, b.Scheme) || u.User != nil {
		return "", false
	}
	rel, ok := strings.CutPrefix(u.EscapedPath(), strings.TrimRight(b.EscapedPath(), "/"))
	if !ok || !strings.HasPrefix(rel, "/") {
		return "", false
	}
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel, true
}

// queryEscape escapes an OData query value with %20 for spaces: Graph reads
// '+' in a query literally.
func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func isODataError(err error) bool {
	var o *odataerrors.ODataError
	return errors.As(err, &o)
}
