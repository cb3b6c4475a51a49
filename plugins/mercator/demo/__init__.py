"""Demo landing data with its answer key: `python -m mercator.demo --customers N --seed S --out DIR`
(and, after a DAG run, `python -m mercator.demo respond ...`: a send's response, mercator.demo.respond).

Writes every entity of the landing contract under DIR/<source>/<entity>/ as CSV, one delivery
file per quarter for orders, items, POS and events (`orders_2025Q3.csv`), the CRM as an export
plus a later updates file, ad spend as one file per platform; and DIR/truth/ (records.csv,
params.json, malformed.csv, junk_identifiers.csv, shared_visitors.csv), which the pipeline never
reads. Output is byte-identical for a seed, whatever the number of worker processes: persons
are simulated in batches of 1000, each with its own random streams (Python's for the persons,
numpy's for event ids); a batch's rows are formatted a column at a time (timestamps, ids,
delivery files: `tables`) and streamed to open files.

Processes (all parameters in `params.DemoParams`, written to truth/params.json):

- Persons: a share `prospect_share` never buys (out of market: a few browsing journeys that
  never convert, some sign up for the newsletter); the others are customers.
- Purchases (MBG/NBD): acquisition (first purchase) uniform over the window; per person
  lambda ~ Gamma(r, rate alpha) per day and p ~ Beta(a, b); Exponential(lambda) gaps between
  purchases; after every purchase, the first included, the person drops out with probability p
  (so one-time buyers churn too, which BG/NBD's process would not let them). Each purchase
  is online (shop, `sales_channel` web or app) or in a store (POS) with probability `pos_share`.
- Spend (Gamma-Gamma): nu ~ Gamma(q, rate gamma) per person; gross order value (total_amount,
  before discount; order items sum to it exactly) ~ Gamma(p, rate nu).
- Journeys and attribution: a journey is 1 + Poisson(`journey_extra_touch_mean`) sessions whose
  channels are drawn by `exposure` among the channels available to the person then (Email and
  SMS need granted consent and an unexpired subscription, Push an app and an account), closed
  with probability `direct_return_share` by a Direct return visit (Direct has a small effect, so
  last touch over-credits it). It converts with probability 1 - (1 - baseline) * prod(1 - effect[channel]). Before each
  purchase, journeys are drawn until one converts (rejection sampling): the failed ones are the
  non-converting journeys of the weeks before, the converting one ends with the purchase (the
  checkout session for shop orders; a browse shortly before a store visit). Journeys towards
  the first purchase after the window are written as far as they fall inside it.
- Channels leave their mark as in real tracking: paid channels carry utm_* and a click id
  (gclid / fbclid / ttclid) and add a click to the day's ad spend; Email and SMS sessions
  follow a SendGrid message (processed, delivered, open, click) or a Twilio message with
  matching utm_campaign; Push sessions start with an app `push_open` carrying the campaign;
  Organic Search and Referral only have a referrer; Direct has nothing.
- Identities: up to 2 emails and 2 phones per person (mostly US, `foreign_share` +44), typed
  with random case, spaces and many phone formats; a shop account (customer_id) for a share
  of buyers (all app users), the rest check out as guests; a loyalty card for some store
  buyers; browsers whose anonymous_id cookie renews every few months; app devices; one CRM
  contact for account holders, loyalty members, some guests and newsletter prospects, a few
  duplicated. Consent per channel (email, SMS, push, ads; ads consent is drawn from a stream of
  its own per person, so the rest of the output does not depend on it); unsubscribes (SendGrid
  `unsubscribe`) and SMS STOP revoke it and show up as later CRM updates. No erasure requests
  (their folder gets a header-only file, as every entity without rows does).
- Junk identifiers: test@example.com at some guest checkouts, noemail@none.com and the
  store's own phone typed by cashiers at POS; listed normalised in truth/junk_identifiers.csv.
- Shared browsers: a share `shared_device_share` of persons share a browser with the previous
  person (a household): truth/records.csv gives each anonymous_id to its first user,
  truth/shared_visitors.csv lists the other.
- Orders: coupons (discount_amount), cancellations and (partial) refunds that arrive as a
  re-delivery of the order in the quarter file of `updated_at` (the later file wins).
- Malformed rows (`--malformed-share`): extra rows with a fresh `bad-...` id inserted after a
  good row, each listed in truth/malformed.csv with its file (relative to DIR) and 1-based line.
"""
