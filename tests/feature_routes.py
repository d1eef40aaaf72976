"""Route-access tables of the feature packages, merged into tests.routes.ROUTE_ACCESS.

Each feature keeps its table in its own module exporting ``ROUTES``, listed here, so features
grow without all editing one shared file.
"""

from __future__ import annotations

from tests.access import Access
from tests.api import api_routes
from tests.calibration import routes as calibration_routes
from tests.conversations import browse_routes, import_routes
from tests.reviews import routes as review_routes
from tests.sampling import routes as sampling_routes
from tests.scorecards import routes as scorecard_routes

FEATURE_ROUTES: dict[str, Access] = {
    **browse_routes.ROUTES,
    **import_routes.ROUTES,
    **api_routes.ROUTES,
    **scorecard_routes.ROUTES,
    **sampling_routes.ROUTES,
    **review_routes.ROUTES,
    **calibration_routes.ROUTES,
}
