"""The console's pages, one module per page or group of pages; each declares its routes with
`allocator.web.routing.page` and is listed in `allocator.web.app.VIEW_MODULES`."""
