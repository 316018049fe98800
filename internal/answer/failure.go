package answer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sview-project/sview/internal/greylist"
	"github.com/sview-project/sview/internal/leak"
	"github.com/sview-project/sview/internal/query"
)

// StatusCancelled answers a query its caller cancelled (a dashboard refreshed or closed):
// nginx's "client closed request", so it never reads as a timeout or a fault.
const StatusCancelled = 499

// Failure is what the caller of a failed query is told. Internal failures are sview's own
// fault: log them; every other status is the caller's or the database's and says what to do.
type Failure struct {
	Status   int
	Message  string
	Internal bool
}

// Fail decides whose fault err is and says so clearly; ctx is the query's context and
// timeout its deadline, named in the message when it was reached.
func Fail(ctx context.Context, err error, timeout time.Duration) Failure {
	switch {
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return Failure{Status: http.StatusGatewayTimeout, Message: fmt.Sprintf(
			"query timed out after %s: narrow the time range, or raise the query timeout in the settings", timeout)}
	case errors.Is(err, context.Canceled):
		return Failure{Status: StatusCancelled, Message: "query cancelled"}
	case errors.Is(err, query.ErrForbidden):
		return Failure{Status: http.StatusForbidden, Message: err.Error()}
	case errors.Is(err, query.ErrInvalidField), errors.Is(err, query.ErrMissingField), errors.Is(err, query.ErrUnsupported),
		errors.Is(err, query.ErrInvalidJSON), errors.Is(err, greylist.ErrInvalid), errors.Is(err, leak.ErrInvalidHash),
		errors.Is(err, leak.ErrInvalidPrefix), backend.IsDownstreamError(err):
		return Failure{Status: http.StatusBadRequest, Message: err.Error()}
	}
	if cat, hint := Categorize(err); cat != "" {
		return Failure{Status: http.StatusBadGateway, Message: fmt.Sprintf("[%s] %v (%s)", cat, err, hint)}
	}
	return Failure{Status: http.StatusInternalServerError, Message: "query failed: " + err.Error(), Internal: true}
}

// Categorize sorts a PostgreSQL failure into what an operator should look at.
func Categorize(err error) (category, hint string) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "28P01" || pgErr.Code == "28000":
			return "auth", "check the user and password in the datasource settings"
		case pgErr.Code == "3D000":
			return "config", "the database does not exist: check its name"
		case pgErr.Code == "42P01" || pgErr.Code == "42883":
			return "schema", "the sview schema is missing or old: run `sview migrate up`"
		case pgErr.Code == "42501":
			return "auth", "permission denied: grant the sview_reader role to this user"
		case strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P03":
			return "network", "the server closed the connection or is starting up"
		}
		return "", ""
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		msg := strings.ToLower(err.Error())
		switch {
		case strings.Contains(msg, "tls") || strings.Contains(msg, "ssl") || strings.Contains(msg, "certificate"):
			return "tls", "check the TLS mode: the server and sslmode must agree"
		case strings.Contains(msg, "password") || strings.Contains(msg, "authentication"):
			return "auth", "check the user and password in the datasource settings"
		case strings.Contains(msg, "does not exist"):
			return "config", "check the database and user names"
		case strings.Contains(msg, "timeout") || strings.Contains(msg, "deadline"):
			return "timeout", "the server did not answer in time: check host, port and firewalls"
		}
		return "network", "cannot connect: check host and port, and that PostgreSQL accepts connections from Grafana"
	}
	return "", ""
}
