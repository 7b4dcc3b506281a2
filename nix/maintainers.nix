# Maintainers of the hms module, in the shape of nixpkgs' maintainer-list.nix. An external module
# cannot name an entry of lib.maintainers; upstreamed, this entry would move to
# home-manager's modules/lib/maintainers.nix.
{
  hms = {
    name = "hms maintainers";
    email = "maintainers@users.noreply.r-seed-e50c150f.example";
  };
}
