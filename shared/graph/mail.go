package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// MaxInlineAttachmentBytes is the most attachment content one sendMail
// request may carry. Graph takes attachments under 3 MB inline in the JSON
// (outlook-large-attachments); base64 makes them a third larger, which keeps
// the request inside Graph's 4 MB limit with room for the HTML. Larger ones
// need a draft and an upload session (Mail.ReadWrite), which the product
// does not use. Decimal megabytes, so the guard errs on the safe side.
const MaxInlineAttachmentBytes = 3_000_000

// ErrMailTooLarge is returned, before anything is sent, for a mail whose
// attachments exceed MaxInlineAttachmentBytes; attach less and say where the
// rest is.
var ErrMailTooLarge = errors.New("graph: mail attachments exceed 3 MB")

// Mail is an HTML message sent with sendMail.
type Mail struct {
	Subject string
	// HTML is the body; inline images are referenced as cid:<ContentID>.
	HTML        string
	To, Cc      []string
	Attachments []Attachment
	// NoSentItemsCopy keeps the message out of the sender's Sent Items
	// (Graph saves a copy by default).
	NoSentItemsCopy bool
}

// Attachment is a file attachment; with a ContentID it is inline (an image
// the HTML shows), otherwise an ordinary file.
type Attachment struct {
	Name, ContentType string
	ContentID         string
	Content           []byte
}

// AttachmentBytes is the attachment content the mail carries, the figure
// MaxInlineAttachmentBytes bounds.
func (m Mail) AttachmentBytes() int {
	n := 0
	for _, a := range m.Attachments {
		n += len(a.Content)
	}
	return n
}

// SendMail sends m from the sender mailbox (POST /users/{sender}/sendMail).
// Graph's 202 means accepted for delivery, not delivered.
func (w *Writer) SendMail(ctx context.Context, sender string, m Mail) error {
	op := fmt.Sprintf("send mail %q as %s", m.Subject, sender)
	if err := w.check(op, sender); err != nil {
		return err
	}
	if len(m.To)+len(m.Cc) == 0 {
		return invalid(op, "no recipients")
	}
	if n := m.AttachmentBytes(); n > MaxInlineAttachmentBytes {
		return fmt.Errorf("%s: %w (%d bytes)", op, ErrMailTooLarge, n)
	}
	msg := bare(models.NewMessage())
	msg.SetSubject(ptr(m.Subject))
	body := bare(models.NewItemBody())
	html := models.HTML_BODYTYPE
	body.SetContentType(&html)
	body.SetContent(ptr(m.HTML))
	msg.SetBody(body)
	msg.SetToRecipients(recipients(m.To))
	if len(m.Cc) > 0 {
		msg.SetCcRecipients(recipients(m.Cc))
	}
	if len(m.Attachments) > 0 {
		atts := make([]models.Attachmentable, 0, len(m.Attachments))
		for _, a := range m.Attachments {
			if a.Name == "" || strings.ContainsAny(a.ContentID, "<> ") {
				return invalid(op, "attachment %q needs a name and a content id without <, > or spaces", a.Name)
			}
			f := models.NewFileAttachment()
			f.SetName(ptr(a.Name))
			if a.ContentType != "" {
				f.SetContentType(ptr(a.ContentType))
			}
			f.SetContentBytes(a.Content)
			if a.ContentID != "" {
				f.SetContentId(ptr(a.ContentID))
				f.SetIsInline(ptr(true))
			}
			atts = append(atts, f)
		}
		msg.SetAttachments(atts)
	}
	req := users.NewItemSendMailPostRequestBody()
	req.SetMessage(msg)
	if m.NoSentItemsCopy {
		req.SetSaveToSentItems(ptr(false))
	}
	return Wrap(op, w.sdk.Users().ByUserId(sender).SendMail().Post(ctx, req, nil))
}

func recipients(addrs []string) []models.Recipientable {
	out := make([]models.Recipientable, 0, len(addrs))
	for _, a := range addrs {
		e := bare(models.NewEmailAddress())
		e.SetAddress(ptr(a))
		r := bare(models.NewRecipient())
		r.SetEmailAddress(e)
		out = append(out, r)
	}
	return out
}
