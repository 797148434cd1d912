"""Open311 GeoReport v2, read-only: other city systems and civic apps read our services and requests.

Like FixMyStreet's Open311 server: discovery, the service list and definitions, and public service
requests with the spec's filters (plus the common `page`/`page_size` extension), in JSON and XML.
Submitting goes through our own API (device tokens, media, idempotency), which Open311's POST cannot
express. Errors use Open311's own `errors[]{code, description}` shape, because Open311 clients expect
it; everything else in the API keeps the project's error shape.
"""
