package operators

import (
	"context"

	"esign/internal/customers"
	"esign/internal/esign"
	"esign/internal/offers"
)

// CustomerDetail is a customer's page: the customer, their apps with the
// devices they run on, open sessions, recent activity, offers and
// contracts.
type CustomerDetail struct {
	Customer   *esign.Customer
	Apps       []CustomerApp
	Sessions   []customers.Session
	Activities []*esign.Activity // newest first
	Offers     []*esign.Offer    // newest first
	Contracts  []*esign.Contract // newest first
}

// CustomerApp is one app installation (or the customer's web app record)
// with its device, nil when the app reported none.
type CustomerApp struct {
	App    *esign.App
	Device *esign.Device
}

// How many of each list the customer page shows.
const (
	customerActivities = 50
	customerOffers     = 20
	customerContracts  = 20
	customerApps       = 100
)

// Customer returns the customer's page. Errors: NotFound, Unavailable (no
// customer service).
func (s *Service) Customer(ctx context.Context, id string) (*CustomerDetail, error) {
	const op = "operators.Customer"
	cs, err := s.customerActions(op)
	if err != nil {
		return nil, err
	}
	if !esign.ValidID(id) {
		return nil, esign.E(op, esign.NotFound, "customer not found")
	}
	d := &CustomerDetail{}
	if d.Customer, err = s.d.DB.GetCustomer(ctx, id); err != nil {
		return nil, esign.E(op, err)
	}
	apps, err := s.d.DB.ListApps(ctx, esign.AppFilter{CustomerID: id, Page: esign.Page{Limit: customerApps}})
	if err != nil {
		return nil, esign.E(op, err)
	}
	for _, a := range apps {
		dev, err := s.d.DB.GetAppDevice(ctx, a.ID)
		if err != nil && !esign.IsKind(err, esign.NotFound) {
			return nil, esign.E(op, err)
		}
		d.Apps = append(d.Apps, CustomerApp{App: a, Device: dev})
	}
	if d.Sessions, err = cs.CustomerSessions(ctx, id); err != nil {
		return nil, esign.E(op, err)
	}
	if d.Activities, err = s.d.DB.ListActivities(ctx, esign.ActivityFilter{CustomerID: id, Page: esign.Page{Limit: customerActivities}}); err != nil {
		return nil, esign.E(op, err)
	}
	if d.Offers, err = s.d.DB.ListOffers(ctx, esign.OfferFilter{CustomerID: id, Page: esign.Page{Limit: customerOffers}}); err != nil {
		return nil, esign.E(op, err)
	}
	if d.Contracts, err = s.d.DB.ListContracts(ctx, esign.ContractFilter{CustomerID: id, Page: esign.Page{Limit: customerContracts}}); err != nil {
		return nil, esign.E(op, err)
	}
	return d, nil
}

func (s *Service) customerActions(op string) (CustomerActions, error) {
	if s.d.Customers == nil {
		return nil, esign.E(op, esign.Unavailable, "customer service unavailable")
	}
	return s.d.Customers, nil
}

// BlockCustomer blocks the customer and ends their sessions; UnblockCustomer
// lifts the block. Errors: NotFound, Conflict (already_blocked,
// not_blocked, deleted), Unavailable.
func (s *Service) BlockCustomer(ctx context.Context, p *Principal, customerID string) (*esign.Customer, error) {
	return s.setBlocked(ctx, "operators.BlockCustomer", p, customerID, true)
}

// UnblockCustomer: see BlockCustomer.
func (s *Service) UnblockCustomer(ctx context.Context, p *Principal, customerID string) (*esign.Customer, error) {
	return s.setBlocked(ctx, "operators.UnblockCustomer", p, customerID, false)
}

func (s *Service) setBlocked(ctx context.Context, op string, p *Principal, customerID string, block bool) (*esign.Customer, error) {
	cs, err := s.customerActions(op)
	if err != nil {
		return nil, err
	}
	if !esign.ValidID(customerID) {
		return nil, esign.E(op, esign.NotFound, "customer not found")
	}
	f := cs.Unblock
	if block {
		f = cs.Block
	}
	c, err := f(ctx, customerID, p.User.ID)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// BootstrapCustomer creates a pending customer, as the webhook's
// /customer/bootstrap does. Errors: Invalid, Conflict, Unavailable.
func (s *Service) BootstrapCustomer(ctx context.Context, n offers.NewCustomer) (*esign.Customer, error) {
	const op = "operators.BootstrapCustomer"
	oa, err := s.offerActions(op)
	if err != nil {
		return nil, err
	}
	c, err := oa.BootstrapCustomer(ctx, n)
	if err != nil {
		return nil, esign.E(op, err)
	}
	return c, nil
}

// SendAssociationCode sends the customer the SMS code that links a device,
// as the webhook's /customer/send-association-token does. Errors:
// NotFound, Forbidden (customer_inactive), Invalid, TooMany, Unavailable.
func (s *Service) SendAssociationCode(ctx context.Context, customerID string) error {
	const op = "operators.SendAssociationCode"
	cs, err := s.customerActions(op)
	if err != nil {
		return err
	}
	if !esign.ValidID(customerID) {
		return esign.E(op, esign.NotFound, "customer not found")
	}
	if err := cs.SendAssociationCode(ctx, customerID); err != nil {
		return esign.E(op, err)
	}
	return nil
}
