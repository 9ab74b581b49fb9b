from django.urls import path

from cityhall.portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("life/<slug:slug>/", views.life_event, name="life_event"),
    path("my/", views.mypage, name="mypage"),
    path("my/profile/", views.profile_edit, name="profile"),
    path("language/<str:code>/", views.language, name="language"),
    path("display/", views.display, name="display"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
]
