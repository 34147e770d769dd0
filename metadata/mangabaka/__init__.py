"""MangaBaka (https://mangabaka.org): the offline dump, the live API, and the provider.

`mapping` turns both upstream shapes into `SeriesMetadata` with one set of
rules; `store` reads the dump, `api` talks to the live API, `refresh`
installs a new dump, and `provider` chains them behind the seam in
`metadata.providers`.
"""
