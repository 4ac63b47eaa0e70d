package dynamo

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Meter counts what a DynamoDB client does: the calls of each operation (Scan included,
// should anything make one), the items they read and the capacity they consumed. It is
// for tests and benchmarks that measure the cost of an operation of the stores (items
// read per chat closed, Scan calls = 0); install it on a client with
//
//	client := dynamodb.NewFromConfig(cfg, meter.Install)
//
// It asks DynamoDB to return the consumed capacity (TOTAL) of every call that does not
// ask already. A call is counted once, however many times the SDK retried it. It is safe
// for concurrent use.
type Meter struct {
	mu sync.Mutex
	u  Usage
}

// Usage is what a Meter counted.
type Usage struct {
	// Calls counts the calls by operation name (GetItem, Query, Scan, TransactWriteItems, ...).
	Calls map[string]int
	// ItemsRead counts the items the reads evaluated: a GetItem that found its item, the
	// ScannedCount of a Query or Scan (also when it only counts), the items of a
	// BatchGetItem or TransactGetItems.
	ItemsRead int64
	// ReadUnits and WriteUnits are the capacity units DynamoDB reported consumed (reads:
	// GetItem, Query, Scan, BatchGetItem, TransactGetItems; writes: the others).
	ReadUnits, WriteUnits float64
	// Errors counts the calls that failed.
	Errors int
}

// Install adds the meter to a client's middleware (a dynamodb.Options function).
func (m *Meter) Install(o *dynamodb.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("convrsMeter", m.handle), middleware.After)
	})
}

// Usage returns what was counted since the meter was made or last reset.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.u
	u.Calls = maps.Clone(m.u.Calls)
	if u.Calls == nil {
		u.Calls = map[string]int{}
	}
	return u
}

// Reset returns what was counted and starts again from zero.
func (m *Meter) Reset() Usage {
	u := m.Usage()
	m.mu.Lock()
	m.u = Usage{}
	m.mu.Unlock()
	return u
}

func (m *Meter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	askCapacity(in.Parameters)
	out, md, err := next.HandleInitialize(ctx, in)
	items, read, write := usageOf(out.Result)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.u.Calls == nil {
		m.u.Calls = map[string]int{}
	}
	m.u.Calls[middleware.GetOperationName(ctx)]++
	m.u.ItemsRead += items
	m.u.ReadUnits += read
	m.u.WriteUnits += write
	if err != nil {
		m.u.Errors++
	}
	return out, md, err
}

func askCapacity(params any) {
	total := types.ReturnConsumedCapacityTotal
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.QueryInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.ScanInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.PutItemInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.UpdateItemInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.DeleteItemInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.TransactWriteItemsInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	case *dynamodb.BatchWriteItemInput:
		if in.ReturnConsumedCapacity == "" {
			in.ReturnConsumedCapacity = total
		}
	}
}

func units(cs ...types.ConsumedCapacity) float64 {
	var u float64
	for _, c := range cs {
		u += aws.ToFloat64(c.CapacityUnits)
	}
	return u
}

func one(c *types.ConsumedCapacity) []types.ConsumedCapacity {
	if c == nil {
		return nil
	}
	return []types.ConsumedCapacity{*c}
}

// usageOf is what a response says it read and consumed.
func usageOf(result any) (items int64, read, write float64) {
	switch out := result.(type) {
	case *dynamodb.GetItemOutput:
		if len(out.Item) > 0 {
			items = 1
		}
		return items, units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.QueryOutput:
		return int64(out.ScannedCount), units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.ScanOutput:
		return int64(out.ScannedCount), units(one(out.ConsumedCapacity)...), 0
	case *dynamodb.BatchGetItemOutput:
		for _, rs := range out.Responses {
			items += int64(len(rs))
		}
		return items, units(out.ConsumedCapacity...), 0
	case *dynamodb.TransactGetItemsOutput:
		for _, r := range out.Responses {
			if len(r.Item) > 0 {
				items++
			}
		}
		return items, units(out.ConsumedCapacity...), 0
	case *dynamodb.PutItemOutput:
		return 0, 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.UpdateItemOutput:
		return 0, 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.DeleteItemOutput:
		return 0, 0, units(one(out.ConsumedCapacity)...)
	case *dynamodb.TransactWriteItemsOutput:
		return 0, 0, units(out.ConsumedCapacity...)
	case *dynamodb.BatchWriteItemOutput:
		return 0, 0, units(out.ConsumedCapacity...)
	}
	return 0, 0, 0
}
