"""Every read, one module per part of the product; an id from a URL reaches an object only through an
`<entity>_get_for_user` selector, so another user's object is a 404. Layout: docs/decisions/0007-layout.md."""
